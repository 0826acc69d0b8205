using GanService.Jobs;
using GanService.Jobs.Worker;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static GanService.Tests.WorkerRuns;

namespace GanService.Tests;

/// <summary>
/// The durability promise against stops: a worker stopped gracefully (a SIGTERM, a stop inside a checkpoint, a run
/// Hangfire aborts) requeues its job with every step it trained checkpointed, and the next worker repeats none.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class GracefulStopTests(PostgresServer postgres, BuiltOnce<GracefulStopTests.GracefulStop> stops)
    : IClassFixture<BuiltOnce<GracefulStopTests.GracefulStop>>
{
    /// <summary>
    /// A job whose worker got a SIGTERM at step 50 or later, and how it stood then; the worker started after it runs
    /// for the first fact that asks.
    /// </summary>
    public sealed record GracefulStop(
        string Database,
        GanServiceFactory Api,
        HttpClient Client,
        Guid JobId,
        int? ExitCode,
        string Log,
        JobStatus Status,
        AttemptResponse First,
        long LastCheckpoint
    ) : IAsyncDisposable
    {
        private Task<List<AttemptResponse>>? resumed;

        public static async Task<GracefulStop> StopAsync(PostgresServer postgres)
        {
            var database = await postgres.CreateDatabaseAsync();
            var api = new GanServiceFactory(database, role: "api");
            var client = api.CreateClient();
            var job = await api.SubmitAsync(client, Recipe("graceful"));
            await using var worker = WorkerProcess.Start(database);
            await WaitWhileWorkingAsync(client, job.Id, worker, j => j.Step >= 50);
            worker.Terminate();
            int? exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)) ? worker.ExitCode : null;
            var status = (await GanServiceFactory.GetJobAsync(client, job.Id)).Status;
            return new GracefulStop(
                database,
                api,
                client,
                job.Id,
                exitCode,
                worker.Log,
                status,
                (await AttemptsAsync(client, job.Id)).Single(),
                (await CheckpointsAsync(client, job.Id))[^1].Step
            );
        }

        /// <summary>The job's attempts once the next worker has finished it.</summary>
        public Task<List<AttemptResponse>> ResumedAsync() => resumed ??= ResumeAsync();

        private async Task<List<AttemptResponse>> ResumeAsync()
        {
            await using (var worker = WorkerProcess.Start(Database))
                await WaitSucceededAsync(Client, JobId, worker);
            return await AttemptsAsync(Client, JobId);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Api.DisposeAsync();
        }
    }

    private Task<GracefulStop> GracefulStopAsync() => stops.GetAsync(() => GracefulStop.StopAsync(postgres));

    [Fact]
    public async Task A_sigterm_requeues_the_job_with_every_step_it_trained_checkpointed()
    {
        var stop = await GracefulStopAsync();
        Assert.True(stop.ExitCode.HasValue, "a SIGTERM should stop the worker");
        Assert.Equal(0, stop.ExitCode);
        Assert.Equal(JobStatus.Queued, stop.Status);
        Assert.Equal(AttemptOutcome.Requeued, stop.First.Outcome);
        Assert.Equal(stop.First.LastStep, stop.LastCheckpoint);
    }

    [Fact]
    public async Task After_a_sigterm_the_next_worker_repeats_no_step()
    {
        var stop = await GracefulStopAsync();
        var attempts = await stop.ResumedAsync();
        Assert.Equal(2, attempts.Count);
        Assert.Equal(stop.First.LastStep, attempts[1].ResumedFromStep);
        Assert.Equal(0, attempts[1].StepsRepeated);
    }

    [Fact]
    public async Task A_worker_without_keys_says_at_startup_that_authentication_is_off()
    {
        Assert.Contains("AUTHENTICATION IS OFF", (await GracefulStopAsync()).Log); // said loudly at startup
    }

    [Fact]
    public async Task A_run_that_hangfire_aborts_while_its_worker_keeps_running_puts_the_job_back_in_the_queue()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api");
        var client = api.CreateClient();
        var job = await api.SubmitAsync(client, Recipe("aborted"));

        await using var worker = WorkerProcess.Start(database);
        await WaitWhileWorkingAsync(client, job.Id, worker, j => j.Step >= 30);
        // What a superseded attempt's worker does when it wakes from a stall past the invisibility timeout and finds
        // its lease gone: its run of the Hangfire job ends, and Hangfire marks the job Succeeded under the worker that
        // took it over. That worker's token fires, though it holds the lease and its host is not stopping.
        var first = await HangfireJobIdAsync(database, job.Id);
        Assert.True(
            api.Services.GetRequiredService<IBackgroundJobClient>()
                .ChangeState(first, new SucceededState(null, 0, 0), ProcessingState.StateName)
        );

        await WaitSucceededAsync(client, job.Id, worker); // a failure shows the worker's log
        var done = await GanServiceFactory.GetJobAsync(client, job.Id);
        var attempts = await AttemptsAsync(client, job.Id);
        Assert.Equal([AttemptOutcome.Requeued, "Succeeded"], attempts.Select(a => a.Outcome));
        Assert.Equal(attempts[0].LastStep, attempts[1].ResumedFromStep); // the stop kept its steps in a checkpoint
        Assert.NotEqual(first, await HangfireJobIdAsync(database, job.Id));
        var checkpoints = (await CheckpointsAsync(client, job.Id)).Select(c => c.Step).ToList();
        Assert.Subset(checkpoints.ToHashSet(), Enumerable.Range(1, 8).Select(i => i * 20L).ToHashSet());
        Assert.Equal(160, done.Step);
        Assert.Contains("its Hangfire job was aborted", worker.Log);
    }

    private static async Task<string> HangfireJobIdAsync(string database, Guid id)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand(
            """SELECT "HangfireJobId" FROM gan.training_jobs WHERE "Id" = @id""",
            connection
        );
        read.Parameters.AddWithValue("id", id);
        return (string)(await read.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_worker_stopped_inside_a_checkpoint_still_stores_it_and_requeues_the_job()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api");
        var client = api.CreateClient();
        var job = await api.SubmitAsync(client, Recipe("stopped-mid-checkpoint"));

        // Progress is flushed just before each checkpoint, so a stop that follows what a client sees lands in the save.
        await using (
            var worker = WorkerProcess.Start(
                database,
                new Dictionary<string, string> { ["Gan:Faults:StopDuringCheckpointAtStep"] = "60" }
            )
        )
        {
            Assert.True(await worker.WaitForExitAsync(Patience), "the worker should have stopped itself at step 60");
            Assert.Equal(0, worker.ExitCode);
        }
        var stopped = await GanServiceFactory.GetJobAsync(client, job.Id);
        Assert.Equal(JobStatus.Queued, stopped.Status);
        var first = (await AttemptsAsync(client, job.Id)).Single();
        Assert.Equal((AttemptOutcome.Requeued, 60L), (first.Outcome, first.LastStep));
        Assert.Equal(60, (await CheckpointsAsync(client, job.Id))[^1].Step);

        await using (var worker = WorkerProcess.Start(database))
            await WaitSucceededAsync(client, job.Id, worker);
        var attempts = await AttemptsAsync(client, job.Id);
        Assert.Equal((2, 60L, 0L), (attempts.Count, attempts[1].ResumedFromStep ?? -1, attempts[1].StepsRepeated));
    }
}
