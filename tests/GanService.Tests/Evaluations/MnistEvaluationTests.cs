using System.Net;
using System.Net.Http.Json;
using GanService.Checkpoints;
using GanService.Evaluations;
using GanService.Jobs;
using Npgsql;

namespace GanService.Tests;

/// <summary>
/// A DCGAN on real MNIST scored at its checkpoints through the API: the Frechet distance falls as it trains, the
/// best checkpoint is marked and served by <c>step=best</c>, and a checkpoint can be scored again on request.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MnistEvaluationTests(PostgresServer postgres, BuiltOnce<TrainedJob> runs)
    : IClassFixture<BuiltOnce<TrainedJob>>
{
    private const int Samples = 128;

    private Task<TrainedJob> RunAsync() => runs.GetAsync("mnist", () => TrainedJob.RunAsync(
                postgres,
                new
                {
                    dataset = "mnist",
                    model = new { family = "dcgan" },
                    training = new { steps = 600, batchSize = 64 },
                    checkpointEvery = 100,
                    evaluation = new { every = 200, samples = Samples },
                    seed = 4,
                },
                new Dictionary<string, string?>
                {
                    ["Gan:DataDirectory"] = SharedData.Root(),
                    ["Gan:Evaluation:RealSamples"] = "500",
                },
                timeout: TimeSpan.FromMinutes(8)
            ));

    [SharedDataFact("mnist")]
    public async Task The_frechet_distance_falls_as_the_generator_trains()
    {
        var run = await RunAsync();
        var rows = await EvaluationRuns.ListAsync(run.Client, run.Done.Id);

        Assert.Equal([200L, 400, 600], rows.Select(r => r.Step));
        Assert.All(rows, r =>
        {
            Assert.Equal(EvaluationStatus.Succeeded, r.Status);
            Assert.Equal(Samples, r.Samples);
            Assert.Equal("resnet18", r.Network);
            Assert.Equal(160, r.Side);
            Assert.True(r.Fd > 0 && double.IsFinite(r.Fd!.Value), $"fd {r.Fd}");
            Assert.True(r.Kid is { } kid && double.IsFinite(kid) && r.KidStd >= 0, $"kid {r.Kid} +- {r.KidStd}");
            Assert.InRange(r.Precision!.Value, 0, 1);
            Assert.InRange(r.Recall!.Value, 0, 1);
            Assert.True(r.Seconds > 0);
            Assert.False(r.Requested);
        });
        Assert.True(rows[^1].Fd < rows[0].Fd, $"fd_resnet18 by step: {string.Join(", ", rows.Select(r => r.Fd))}");
    }

    [SharedDataFact("mnist")]
    public async Task The_best_checkpoint_is_the_lowest_distance_and_step_best_serves_it()
    {
        var run = await RunAsync();
        var client = run.Client;
        var id = run.Done.Id;
        var rows = await EvaluationRuns.ListAsync(client, id);
        var lowest = rows.MinBy(r => r.Fd)!;
        var job = await GanServiceFactory.GetJobAsync(client, id);

        Assert.Equal(new BestCheckpoint(lowest.Step, "fd_resnet18", lowest.Fd!.Value), job.Best);
        Assert.DoesNotContain(job.Warnings, w => w.Code == QualityAlarms.Collapse); // a healthy run raises none
        Assert.Equal([lowest.Step], rows.Where(r => r.Best).Select(r => r.Step));
        var checkpoints = await client.GetFromJsonAsync<List<CheckpointResponse>>($"/api/jobs/{id}/checkpoints");
        Assert.Equal([lowest.Step], checkpoints!.Where(c => c.Best).Select(c => c.Step));

        using var best = await client.GetAsync($"{run.Generator}/samples.png?step=best&seed=3&count=4");
        using var pinned = await client.GetAsync($"{run.Generator}/samples.png?step={lowest.Step}&seed=3&count=4");
        Assert.Equal(HttpStatusCode.OK, best.StatusCode);
        Assert.Equal(lowest.Step.ToString(), best.Headers.GetValues("X-Checkpoint-Step").Single());
        Assert.Equal(await pinned.Content.ReadAsByteArrayAsync(), await best.Content.ReadAsByteArrayAsync());
        // The best may change with the next evaluation, so it is revalidated; a numbered step is cached for good.
        Assert.True(best.Headers.CacheControl!.NoCache);
        Assert.True(pinned.Headers.CacheControl!.MaxAge > TimeSpan.FromDays(300));

        foreach (var path in new[] { "preview.png", "bundle.zip" })
        {
            using var byName = await client.GetAsync($"/api/jobs/{id}/checkpoints/best/{path}");
            using var byStep = await client.GetAsync($"/api/jobs/{id}/checkpoints/{lowest.Step}/{path}");
            Assert.Equal(HttpStatusCode.OK, byName.StatusCode);
            Assert.Equal(byStep.Headers.ETag, byName.Headers.ETag);
        }
    }

    [SharedDataFact("mnist")]
    public async Task A_checkpoint_scored_on_request_is_queued_once_and_then_answered_from_its_row()
    {
        var run = await RunAsync();
        var client = run.Client;
        var url = $"/api/jobs/{run.Done.Id}/checkpoints/400/evaluation";

        using var first = await client.PostAsJsonAsync(url, new { samples = 64 });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var location = first.Headers.Location!.ToString();
        Assert.Equal($"{url}?samples=64", location);
        using var again = await client.PostAsJsonAsync(url, new { samples = 64 });
        Assert.True(again.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, $"{again.StatusCode}");
        var done = await EvaluationRuns.WaitAsync(client, location, TimeSpan.FromMinutes(3));
        Assert.Equal(EvaluationStatus.Succeeded, done.Status);
        Assert.True(done.Requested);

        using var repeated = await client.PostAsJsonAsync(url, new { samples = 64 });
        Assert.Equal(HttpStatusCode.OK, repeated.StatusCode);
        Assert.Equal(done, await EvaluationRuns.ReadAsync(repeated));
        // The job's own sample count at a scheduled step: the row the worker stored, not a new evaluation.
        using var scheduled = await client.PostAsJsonAsync(
            $"/api/jobs/{run.Done.Id}/checkpoints/600/evaluation",
            new { }
        );
        Assert.Equal(HttpStatusCode.OK, scheduled.StatusCode);
        Assert.False((await EvaluationRuns.ReadAsync(scheduled)).Requested);

        var rows = await EvaluationRuns.ListAsync(client, run.Done.Id);
        Assert.Equal(4, rows.Count);
        Assert.Single(rows, r => r.Samples == 64);
    }

    [SharedDataFact("mnist")]
    public async Task Real_statistics_are_computed_once_per_dataset_and_stored_in_float64()
    {
        var run = await RunAsync();
        await using var connection = new NpgsqlConnection(run.Service.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """SELECT "Key", "Count", length("Statistics") FROM gan.real_statistics""",
            connection
        );
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Contains($"{run.Done.DatasetSha256}/A/28x1/resnet18@160", reader.GetString(0));
        Assert.Equal(500, reader.GetInt64(1));
        // Mean (512) and covariance (512 x 512) in float64, and the kept real features.
        Assert.True(reader.GetInt32(2) > (512 + 512 * 512) * sizeof(double));
        Assert.False(await reader.ReadAsync());
    }
}
