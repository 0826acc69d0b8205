using GanService.Gan.Training;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Jobs.Worker;
using GanService.Persistence;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GanService.Tests;

/// <summary>
/// No job stays Queued or Running with nothing to run it, and only crashes use up a job's attempts: graceful requeues
/// and take-overs from a live worker do not.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StrandedJobTests(PostgresServer postgres)
{
    [Fact]
    public async Task Requeues_and_take_overs_of_live_workers_use_up_no_attempts_and_crashes_do()
    {
        await using var api = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        var client = api.CreateClient();
        var job = await api.SubmitAsync(client, TestData.SyntheticJob(steps: 100));
        var ledger = api.Services.GetRequiredService<JobLedger>();
        int limit = api.Services.GetRequiredService<IOptions<GanOptions>>().Value.MaxAttempts; // the default
        var none = CancellationToken.None;

        for (int i = 0; i <= limit; i++)
        {
            // A rolling restart: the worker checkpoints and requeues the job as it stops.
            var stopping = (await ledger.StartAsync(job.Id, "restarted", limit, none))!.Lease;
            await ledger.EndAsync(stopping, JobStatus.Queued, null, none);
            // A database outage longer than the invisibility timeout: an idle worker takes the job over from a live
            // one, which learns it at its next write.
            var slow = (await ledger.StartAsync(job.Id, "worker-a", limit, none))!.Lease;
            var idle = (await ledger.StartAsync(job.Id, "worker-b", limit, none))!.Lease;
            await Assert.ThrowsAsync<LeaseLostException>(() => ledger.RecordAsync(slow, [Report(5)], none));
            await ledger.SupersededAsync(slow, none);
            await ledger.EndAsync(idle, JobStatus.Queued, null, none);
        }
        Assert.Equal(JobStatus.Queued, (await GanServiceFactory.GetJobAsync(client, job.Id)).Status);

        for (int crash = 0; crash < limit; crash++)
            Assert.NotNull(await ledger.StartAsync(job.Id, $"crashing-{crash}", limit, none)); // and never ends
        Assert.Null(await ledger.StartAsync(job.Id, "last", limit, none));
        var failed = await GanServiceFactory.GetJobAsync(client, job.Id);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.StartsWith($"Gave up after {limit} attempts", failed.Error);
    }

    [Fact]
    public async Task A_queued_job_whose_enqueue_never_happened_is_requeued_and_trains()
    {
        await using var api = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        var client = api.CreateClient();
        var stranded = await api.SubmitAsync(client, TestData.SyntheticJob(steps: 20));
        var waiting = await api.SubmitAsync(client, TestData.SyntheticJob(steps: 20));
        // As if the API process died between the insert and the enqueue.
        var lostHangfireJob = await HangfireJobIdAsync(api, stranded.Id);
        api.Services.GetRequiredService<IBackgroundJobClient>().Delete(lostHangfireJob);
        await SetAsync(api, stranded.Id, hangfireJobId: null);
        await SetAsync(api, waiting.Id, hangfireJobId: await HangfireJobIdAsync(api, waiting.Id)); // quiet, but alive

        var reconciler = api.Services.GetRequiredService<JobReconciler>();
        Assert.Equal(1, await reconciler.ReconcileAsync(CancellationToken.None));
        Assert.Equal(0, await reconciler.ReconcileAsync(CancellationToken.None)); // nothing left to do
        Assert.Equal(EnqueuedState.StateName, HangfireState(api, await HangfireJobIdAsync(api, stranded.Id)));

        // What a worker does when it fetches the new Hangfire job.
        await Task.Run(() => api.Services.GetRequiredService<TrainingRun>().Run(stranded.Id, CancellationToken.None));
        Assert.Equal(JobStatus.Succeeded, (await GanServiceFactory.GetJobAsync(client, stranded.Id)).Status);
    }

    [Fact]
    public async Task A_running_job_whose_hangfire_run_failed_on_an_outage_goes_back_in_its_queue()
    {
        await using var api = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        var client = api.CreateClient();
        var job = await api.SubmitAsync(client, TestData.SyntheticJob(steps: 20));
        var ledger = api.Services.GetRequiredService<JobLedger>();
        Assert.NotNull(await ledger.StartAsync(job.Id, "gave-up", 5, CancellationToken.None));
        // The attempt outlasted Gan:OutageTolerance and threw; with no retries Hangfire failed its run.
        var hangfireJobId = await HangfireJobIdAsync(api, job.Id);
        var hangfire = api.Services.GetRequiredService<IBackgroundJobClient>();
        hangfire.ChangeState(hangfireJobId, new FailedState(new TimeoutException()));
        await SetAsync(api, job.Id, hangfireJobId);

        Assert.Equal(1, await api.Services.GetRequiredService<JobReconciler>().ReconcileAsync(CancellationToken.None));
        var requeued = await GanServiceFactory.GetJobAsync(client, job.Id);
        Assert.Equal(JobStatus.Queued, requeued.Status);
        var attempt = (await WorkerRuns.AttemptsAsync(client, job.Id)).Single();
        Assert.Equal(AttemptOutcome.Lost, attempt.Outcome);
        var next = await HangfireJobIdAsync(api, job.Id);
        Assert.NotEqual(hangfireJobId, next);
        Assert.Equal(EnqueuedState.StateName, HangfireState(api, next));
    }

    private static TrainingProgress Report(long step) => new(step, 100, 0, 0.5, 1.5, 0.75, 0.25, 900);

    private static async Task<string> HangfireJobIdAsync(GanServiceFactory host, Guid id)
    {
        await using var db = await Contexts(host).CreateDbContextAsync();
        return (await db.Jobs.SingleAsync(j => j.Id == id)).HangfireJobId!;
    }

    /// <summary>
    /// Sets the row's Hangfire job and makes it look untouched for an hour (over <c>Gan:StrandedAfter</c>).
    /// </summary>
    private static async Task SetAsync(GanServiceFactory host, Guid id, string? hangfireJobId)
    {
        await using var db = await Contexts(host).CreateDbContextAsync();
        await db
            .Jobs.Where(j => j.Id == id)
            .ExecuteUpdateAsync(s =>
                s.SetProperty(j => j.HangfireJobId, hangfireJobId)
                    .SetProperty(j => j.UpdatedAt, DateTimeOffset.UtcNow.AddHours(-1))
            );
    }

    private static string? HangfireState(GanServiceFactory host, string hangfireJobId)
    {
        using var connection = host.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetJobData(hangfireJobId)?.State;
    }

    private static IDbContextFactory<GanDbContext> Contexts(GanServiceFactory host) =>
        host.Services.GetRequiredService<IDbContextFactory<GanDbContext>>();
}
