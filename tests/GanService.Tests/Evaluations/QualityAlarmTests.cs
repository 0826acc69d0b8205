using System.Net;
using System.Net.Http.Json;
using GanService.Evaluations;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Tests;

/// <summary>
/// What evaluations do to a job beyond their numbers, through the API: early stopping, the plateau and collapse
/// alarms, a failed evaluation that leaves the job alone, and the requests that are refused before any work.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class QualityAlarmTests(PostgresServer postgres)
{
    private static readonly Dictionary<string, string?> SmallStatistics = new()
    {
        ["Gan:Evaluation:RealSamples"] = "200",
    };

    [Fact]
    public async Task Early_stopping_ends_a_job_that_stops_improving_and_keeps_its_best_checkpoint()
    {
        // A generator that cannot learn (its learning rate is negligible): its distance only wanders.
        await using var run = await TrainedJob.RunAsync(
            postgres,
            new
            {
                dataset = "synthetic",
                model = new { family = "dcgan" },
                training = new
                {
                    steps = 2000,
                    batchSize = 16,
                    generatorLearningRate = 1e-9,
                    earlyStopping = new { patience = 2 },
                },
                checkpointEvery = 20,
                evaluation = new { every = 20, samples = 32 },
                seed = 8,
            },
            SmallStatistics,
            timeout: TimeSpan.FromMinutes(5)
        );
        var job = run.Done;
        var rows = await EvaluationRuns.ListAsync(run.Client, job.Id);

        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Equal("no improvement in 2 evaluations", job.StopReason);
        Assert.True(job.Step < 2000, $"stopped at {job.Step}");
        Assert.Equal(job.Step, rows[^1].Step);
        var best = rows.MinBy(r => r.Fd)!;
        Assert.Equal(best.Step, job.Best!.Step);
        Assert.Equal(rows[^3].Step, best.Step);
        Assert.Equal(job.Evaluation, new EvaluationPlan(20, 32, 2));
        var plateau = Assert.Single(job.Warnings, w => w.Code == QualityAlarms.Plateau);
        Assert.Equal(job.Step, plateau.Step);
        using var bundle = await run.Client.GetAsync($"/api/jobs/{job.Id}/checkpoints/best/bundle.zip");
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
    }

    [Fact]
    public async Task A_generator_that_collapses_raises_the_collapse_alarm_once_at_the_step_it_began()
    {
        // Adam at a learning rate of 1 throws the generator's weights far out in a few steps: its tanh saturates and
        // every latent draws the same picture.
        await using var run = await TrainedJob.RunAsync(
            postgres,
            new
            {
                dataset = "synthetic",
                model = new { family = "dcgan" },
                training = new
                {
                    steps = 60,
                    batchSize = 16,
                    generatorLearningRate = 1.0,
                },
                checkpointEvery = 20,
                evaluation = new { every = 20, samples = 32 },
                seed = 2,
            },
            SmallStatistics
        );
        var rows = await EvaluationRuns.ListAsync(run.Client, run.Done.Id);
        var report = string.Join("; ", rows.Select(r => $"{r.Step}: recall {r.Recall}, duplicates {r.DuplicateShare}"));

        Assert.All(rows, r => Assert.True(r.DuplicateShare > 0.5, report));
        var alarm = Assert.Single(run.Done.Warnings, w => w.Code == QualityAlarms.Collapse);
        Assert.True(rows[0].Step == alarm.Step, report);
    }

    [Fact]
    public async Task A_failed_evaluation_is_recorded_and_warned_about_while_the_job_succeeds()
    {
        await using var run = await TrainedJob.RunAsync(
            postgres,
            new
            {
                dataset = "synthetic",
                model = new { family = "dcgan" },
                training = new { steps = 20, batchSize = 16 },
                checkpointEvery = 10,
                evaluation = new { every = 10, samples = 16 },
            },
            new Dictionary<string, string?> { ["Gan:Evaluation:FeatureNetworkDirectory"] = "/nonexistent/models" }
        );
        var rows = await EvaluationRuns.ListAsync(run.Client, run.Done.Id);

        Assert.Equal(JobStatus.Succeeded, run.Done.Status);
        Assert.Equal([10L, 20], rows.Select(r => r.Step));
        Assert.All(rows, r => Assert.Equal(EvaluationStatus.Failed, r.Status));
        Assert.All(rows, r => Assert.Null(r.Fd));
        Assert.Null(run.Done.Best);
        Assert.Equal(2, run.Done.Warnings.Count(w => w.Code == QualityAlarms.Failed));
        Assert.Contains("feature network", rows[0].Error);
    }

    [Fact]
    public async Task Evaluation_settings_and_requests_are_checked_before_any_work()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        using var client = service.CreateClient();
        async Task<string[]> Refused(object request, string field)
        {
            using var response = await client.PostAsJsonAsync("/api/jobs", request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
            return problem.Errors[field];
        }
        object Job(object? evaluation = null, object? training = null) =>
            new
            {
                dataset = "synthetic",
                model = new { family = "dcgan" },
                training = training ?? new { steps = 100 },
                checkpointEvery = 10,
                evaluation,
            };

        Assert.Contains(
            "multiple of checkpointEvery (10)",
            (await Refused(Job(new { every = 15 }), "evaluation.every"))[0]
        );
        Assert.Contains("16 to 4096", (await Refused(Job(new { samples = 8 }), "evaluation.samples"))[0]);
        Assert.Contains(
            "evaluation.every",
            (
                await Refused(
                    Job(new { every = 0 }, new { steps = 100, earlyStopping = new { patience = 3 } }),
                    "training.earlyStopping.patience"
                )
            )[0]
        );
        await Refused(
            Job(training: new { steps = 100, earlyStopping = new { patience = 0 } }),
            "training.earlyStopping.patience"
        );

        // A job with one checkpoint and no evaluation yet: there is no best, and the requests name what is wrong.
        var job = await service.SubmitAsync(client, Job(new { every = 0 }, new { steps = 10 }));
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
        Assert.Equal(new EvaluationPlan(0, 192), (await GanServiceFactory.GetJobAsync(client, job.Id)).Evaluation);
        using var noBest = await client.GetAsync($"/api/generators/{job.Id}/samples.png?step=best");
        Assert.Equal(HttpStatusCode.Conflict, noBest.StatusCode);
        using var badStep = await client.GetAsync($"/api/generators/{job.Id}/samples.png?step=latest");
        Assert.Equal(HttpStatusCode.BadRequest, badStep.StatusCode);
        Assert.Contains("step", await badStep.Content.ReadAsStringAsync());
        var evaluate = $"/api/jobs/{job.Id}/checkpoints/10/evaluation";
        using var few = await client.PostAsJsonAsync(evaluate, new { samples = 5 });
        Assert.Equal(HttpStatusCode.BadRequest, few.StatusCode);
        Assert.Contains("samples", (await few.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        using var missing = await client.PostAsJsonAsync($"/api/jobs/{job.Id}/checkpoints/7/evaluation", new { });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var noRow = await client.GetAsync(evaluate);
        Assert.Equal(HttpStatusCode.NotFound, noRow.StatusCode);
        Assert.Empty(await EvaluationRuns.ListAsync(client, job.Id));
    }
}
