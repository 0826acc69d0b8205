using System.Net;
using System.Net.Http.Json;
using GanService.Gan.Training;
using GanService.Jobs;
using GanService.Jobs.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace GanService.Tests;

/// <summary>
/// The progress write a running job makes about once a second, against a real PostgreSQL: what the API shows after
/// it, what a superseded attempt can no longer write, and the cancel flag it brings back to the worker.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ProgressLedgerTests(PostgresServer postgres)
{
    private static TrainingProgress Report(long step, double loss, int? resolution = null, double? alpha = null) =>
        new(step, 100, step / 10, loss, loss + 1, 0.75, 0.25, 900) { Resolution = resolution, Alpha = alpha };

    [Fact]
    public async Task Progress_reaches_the_api_only_from_the_attempt_that_owns_the_job_and_brings_back_a_cancel()
    {
        await using var api = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        var client = api.CreateClient();
        var job = await api.SubmitAsync(client, TestData.SyntheticJob(steps: 100));
        var ledger = api.Services.GetRequiredService<JobLedger>();
        var stale = (await ledger.StartAsync(job.Id, "worker-a", 5, CancellationToken.None))!.Lease;
        var owner = (await ledger.StartAsync(job.Id, "worker-b", 5, CancellationToken.None))!.Lease;

        await Assert.ThrowsAsync<LeaseLostException>(() => ledger.RecordAsync(stale, [Report(5, 0.5)], CancellationToken.None));
        Assert.Empty(await MetricsAsync(client, job.Id));
        Assert.Equal(0, (await GanServiceFactory.GetJobAsync(client, job.Id)).Step);

        Assert.False(await ledger.RecordAsync(owner, [Report(10, 0.9), Report(20, 0.8, resolution: 8, alpha: 0.5)], CancellationToken.None));
        // A re-run of step 20 (a resumed attempt repeats steps) replaces its row; the newest report of a step wins.
        Assert.False(await ledger.RecordAsync(owner, [Report(20, 0.7), Report(20, 0.6), Report(30, 0.4)], CancellationToken.None));

        var metrics = await MetricsAsync(client, job.Id);
        Assert.Equal([10L, 20L, 30L], metrics.Select(m => m.Step));
        Assert.Equal([0.9, 0.6, 0.4], metrics.Select(m => m.DiscriminatorLoss));
        Assert.Equal([1.9, 1.6, 1.4], metrics.Select(m => m.GeneratorLoss));
        Assert.Equal([null, null, null], metrics.Select(m => m.Resolution));
        var running = await GanServiceFactory.GetJobAsync(client, job.Id);
        Assert.Equal((JobStatus.Running, 30L, 0.4, 900.0), (running.Status, running.Step, running.Latest!.DiscriminatorLoss, running.Latest.ImagesPerSecond));
        var attempts = await CrashRecoveryTests.AttemptsAsync(client, job.Id);
        Assert.Equal([0L, 30L], attempts.Select(a => a.LastStep));

        Assert.False(await ledger.RecordAsync(owner, [Report(40, 0.3, resolution: 16, alpha: 0.25)], CancellationToken.None));
        var grown = (await MetricsAsync(client, job.Id))[^1];
        Assert.Equal((16, 0.25), (grown.Resolution, grown.Alpha));

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/jobs/{job.Id}/cancel", null)).StatusCode);
        Assert.True(await ledger.RecordAsync(owner, [Report(50, 0.2)], CancellationToken.None));
        Assert.Equal(50, (await GanServiceFactory.GetJobAsync(client, job.Id)).Step);
    }

    private static async Task<List<MetricResponse>> MetricsAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<List<MetricResponse>>($"/api/jobs/{id}/metrics", GanServiceFactory.Json))!;
}
