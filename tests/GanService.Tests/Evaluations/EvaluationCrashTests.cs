using GanService.Evaluations;
using GanService.Jobs.Worker;
using static GanService.Tests.WorkerRuns;

namespace GanService.Tests;

/// <summary>
/// A worker killed while it scores a checkpoint: the checkpoint stands, the next attempt scores it before training
/// on, and evaluations already stored are not run again.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class EvaluationCrashTests(PostgresServer postgres)
{
    private static readonly Dictionary<string, string> SmallStatistics = new()
    {
        ["Gan:Evaluation:RealSamples"] = "200",
    };

    [Fact]
    public async Task A_worker_killed_during_an_evaluation_loses_nothing_and_repeats_no_stored_evaluation()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api");
        var client = api.CreateClient();
        var job = await api.SubmitAsync(
            client,
            new
            {
                name = "scored",
                dataset = "synthetic",
                model = new { family = "dcgan" },
                training = new { steps = 80, batchSize = 32 },
                checkpointEvery = Interval,
                evaluation = new { every = Interval, samples = 16 },
                seed = 11,
                device = "cpu",
            }
        );

        await using (
            var worker = WorkerProcess.Start(
                database,
                new Dictionary<string, string>(SmallStatistics) { ["Gan:Faults:KillDuringEvaluationAtStep"] = "40" }
            )
        )
        {
            Assert.True(await worker.WaitForExitAsync(Patience), "the worker should have killed itself at step 40");
            Assert.Equal(137, worker.ExitCode);
        }
        Assert.Equal([20, 40], (await CheckpointsAsync(client, job.Id)).Select(c => c.Step));
        var before = Assert.Single(await EvaluationRuns.ListAsync(client, job.Id));
        Assert.Equal((20L, EvaluationStatus.Succeeded), (before.Step, before.Status));

        await using (var worker = WorkerProcess.Start(database, SmallStatistics))
            await WaitSucceededAsync(client, job.Id, worker);

        var rows = await EvaluationRuns.ListAsync(client, job.Id);
        Assert.Equal([20L, 40, 60, 80], rows.Select(r => r.Step));
        Assert.All(rows, r => Assert.Equal(EvaluationStatus.Succeeded, r.Status));
        Assert.Equal(before.FinishedAt, rows[0].FinishedAt); // stored once, not scored again
        var attempts = await AttemptsAsync(client, job.Id);
        Assert.Equal([AttemptOutcome.Lost, "Succeeded"], attempts.Select(a => a.Outcome));
        Assert.Equal(40, attempts[1].ResumedFromStep);
        Assert.True(rows[1].FinishedAt > attempts[1].StartedAt, "the resumed attempt scored the checkpoint at 40");
    }
}
