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
public sealed class ProgressLedgerTests(PostgresServer postgres, BuiltOnce<GanServiceFactory> apis)
    : IClassFixture<BuiltOnce<GanServiceFactory>>
{
    private static TrainingProgress Report(long step, double loss, int? resolution = null, double? alpha = null) =>
        new(step, 100, step / 10, loss, loss + 1, 0.75, 0.25, 900) { Resolution = resolution, Alpha = alpha };

    /// <summary>A job on the class's API host, started by a worker, then by another that superseded it.</summary>
    private sealed record Started(HttpClient Client, Guid Id, JobLedger Ledger, JobLease Stale, JobLease Owner)
    {
        public Task<bool> RecordAsync(JobLease lease, params TrainingProgress[] reports) =>
            Ledger.RecordAsync(lease, reports, CancellationToken.None);
    }

    private async Task<Started> StartedTwiceAsync()
    {
        var api = await apis.GetAsync(async () =>
            new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api")
        );
        var client = api.CreateClient();
        var job = await api.SubmitAsync(client, TestData.SyntheticJob(steps: 100));
        var ledger = api.Services.GetRequiredService<JobLedger>();
        var stale = (await ledger.StartAsync(job.Id, "worker-a", 5, CancellationToken.None))!.Lease;
        var owner = (await ledger.StartAsync(job.Id, "worker-b", 5, CancellationToken.None))!.Lease;
        return new Started(client, job.Id, ledger, stale, owner);
    }

    [Fact]
    public async Task Progress_from_a_superseded_attempt_never_reaches_the_api()
    {
        var job = await StartedTwiceAsync();
        await Assert.ThrowsAsync<LeaseLostException>(() => job.RecordAsync(job.Stale, Report(5, 0.5)));
        Assert.Empty(await MetricsAsync(job.Client, job.Id));
        Assert.Equal(0, (await GanServiceFactory.GetJobAsync(job.Client, job.Id)).Step);
    }

    [Fact]
    public async Task Progress_from_the_attempt_that_owns_the_job_reaches_the_api()
    {
        var job = await StartedTwiceAsync();
        var (client, id) = (job.Client, job.Id);
        Assert.False(await job.RecordAsync(job.Owner, Report(10, 0.9), Report(20, 0.8, resolution: 8, alpha: 0.5)));
        // A re-run of step 20 (a resumed attempt repeats steps) replaces its row; the newest report of a step wins.
        Assert.False(await job.RecordAsync(job.Owner, Report(20, 0.7), Report(20, 0.6), Report(30, 0.4)));

        var metrics = await MetricsAsync(client, id);
        Assert.Equal([10L, 20L, 30L], metrics.Select(m => m.Step));
        Assert.Equal([0.9, 0.6, 0.4], metrics.Select(m => m.DiscriminatorLoss));
        Assert.Equal([1.9, 1.6, 1.4], metrics.Select(m => m.GeneratorLoss));
        Assert.Equal([null, null, null], metrics.Select(m => m.Resolution));
        var running = await GanServiceFactory.GetJobAsync(client, id);
        Assert.Equal(
            (JobStatus.Running, 30L, 0.4, 900.0),
            (running.Status, running.Step, running.Latest!.DiscriminatorLoss, running.Latest.ImagesPerSecond)
        );
        var attempts = await WorkerRuns.AttemptsAsync(client, id);
        Assert.Equal([0L, 30L], attempts.Select(a => a.LastStep));
    }

    [Fact]
    public async Task Progress_carries_the_stage_of_a_growing_model()
    {
        var job = await StartedTwiceAsync();
        Assert.False(await job.RecordAsync(job.Owner, Report(40, 0.3, resolution: 16, alpha: 0.25)));
        var grown = (await MetricsAsync(job.Client, job.Id))[^1];
        Assert.Equal((16, 0.25), (grown.Resolution, grown.Alpha));
    }

    [Fact]
    public async Task Recording_progress_brings_back_a_cancel()
    {
        var job = await StartedTwiceAsync();
        Assert.Equal(HttpStatusCode.OK, (await job.Client.PostAsync($"/api/jobs/{job.Id}/cancel", null)).StatusCode);
        Assert.True(await job.RecordAsync(job.Owner, Report(50, 0.2)));
        Assert.Equal(50, (await GanServiceFactory.GetJobAsync(job.Client, job.Id)).Step);
    }

    private static async Task<List<MetricResponse>> MetricsAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<List<MetricResponse>>($"/api/jobs/{id}/metrics", GanServiceFactory.Json))!;
}
