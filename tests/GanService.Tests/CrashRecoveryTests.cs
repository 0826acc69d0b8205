using System.Net.Http.Json;
using GanService.Checkpoints;
using GanService.Gan.Checkpoints;
using GanService.Jobs;
using GanService.Jobs.Worker;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace GanService.Tests;

/// <summary>
/// The durability promise, with real processes and real signals: a job loses at most one checkpoint interval to a
/// crash, nothing to a graceful stop, and ends exactly as an uninterrupted run would.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CrashRecoveryTests(PostgresServer postgres, BuiltOnce<CrashRecoveryTests.GracefulStop> stops)
    : IClassFixture<BuiltOnce<CrashRecoveryTests.GracefulStop>>
{
    private const int Interval = 20;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private static object Recipe(string name) =>
        new
        {
            name,
            dataset = "synthetic",
            model = new
            {
                family = "dcgan",
                imageSize = 28,
                channels = 1,
            },
            training = new { steps = 160, batchSize = 32 },
            checkpointEvery = Interval,
            seed = 11,
            device = "cpu",
        };

    [Fact]
    public async Task A_job_killed_mid_checkpoint_and_mid_step_with_a_damaged_checkpoint_ends_as_an_uninterrupted_run()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api");
        var client = api.CreateClient();

        var reference = await api.SubmitAsync(client, Recipe("reference"));
        await using (var worker = WorkerProcess.Start(database))
            await WaitSucceededAsync(client, reference.Id, worker);
        var victim = await api.SubmitAsync(client, Recipe("victim"));

        // 1. Killed inside the transaction that stores the checkpoint at step 60: PostgreSQL rolls it back.
        await using (
            var worker = WorkerProcess.Start(
                database,
                new Dictionary<string, string> { ["Gan:Faults:KillDuringCheckpointAtStep"] = "60" }
            )
        )
        {
            Assert.True(await worker.WaitForExitAsync(Patience), "the worker should have killed itself at step 60");
            Assert.Equal(137, worker.ExitCode);
        }
        Assert.Equal([20, 40], (await CheckpointsAsync(client, victim.Id)).Select(c => c.Step));

        // 2. Killed from outside in the middle of training. Progress past 100 means the checkpoint at 100 is stored:
        // training goes on only after its checkpoint commits.
        await using (var worker = WorkerProcess.Start(database))
        {
            await WaitWhileWorkingAsync(client, victim.Id, worker, j => j.Step > 100);
            worker.Kill();
            await worker.WaitForExitAsync(Patience);
        }
        var afterKill = await CheckpointsAsync(client, victim.Id);
        Assert.True(afterKill[^1].Step is >= 100 and < 160, $"newest checkpoint {afterKill[^1].Step}");

        // 3. The newest checkpoint is damaged on purpose: the next attempt must skip it for the one before.
        long damaged = afterKill[^1].Step;
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var corrupt = new NpgsqlCommand(
                """UPDATE gan.checkpoints SET "Bundle" = overlay("Bundle" placing '\x00ff00ff'::bytea from 200) """
                    + """WHERE "JobId" = @id AND "Step" = @step""",
                connection
            );
            corrupt.Parameters.AddWithValue("id", victim.Id);
            corrupt.Parameters.AddWithValue("step", damaged);
            Assert.Equal(1, await corrupt.ExecuteNonQueryAsync());
        }
        await using (var worker = WorkerProcess.Start(database))
            await WaitSucceededAsync(client, victim.Id, worker);

        var attempts = await AttemptsAsync(client, victim.Id);
        Assert.Equal(3, attempts.Count);
        Assert.Equal([AttemptOutcome.Lost, AttemptOutcome.Lost, "Succeeded"], attempts.Select(a => a.Outcome));
        Assert.Equal(40, attempts[1].ResumedFromStep);
        Assert.Equal(damaged - Interval, attempts[2].ResumedFromStep);
        // Step 60 was never stored and the second worker died past its last checkpoint: at most one interval each,
        // plus the interval lost to the damaged checkpoint.
        Assert.InRange(attempts[1].StepsRepeated, 1, Interval);
        Assert.InRange(attempts[2].StepsRepeated, Interval, 2 * Interval);

        // Exactly once in effect: every entry (weights, optimizer states, RNG) equals the uninterrupted run's.
        Assert.Equal(await FinalEntriesAsync(client, reference.Id), await FinalEntriesAsync(client, victim.Id));
    }

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

        var done = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded, Patience);
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

    [Fact]
    public async Task A_job_that_crashes_its_worker_every_time_fails_after_the_attempt_limit_while_other_jobs_succeed()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api");
        var client = api.CreateClient();
        var crasher = await api.SubmitAsync(client, Recipe("crasher"));
        var healthy = await api.SubmitAsync(client, TestData.SyntheticJob(steps: 40));
        var settings = new Dictionary<string, string>
        {
            ["Gan:Faults:CrashJobsNamed"] = "crasher",
            ["Gan:MaxAttempts"] = "3",
        };

        // The test plays the supervisor (docker's restart policy, systemd): a worker that dies is started again.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        int crashes = 0;
        while (true)
        {
            await using var worker = WorkerProcess.Start(database, settings);
            while (!worker.HasExited && DateTime.UtcNow < deadline)
            {
                var (c, h) = (
                    await GanServiceFactory.GetJobAsync(client, crasher.Id),
                    await GanServiceFactory.GetJobAsync(client, healthy.Id)
                );
                if (c.Status == JobStatus.Failed && h.Status == JobStatus.Succeeded)
                    break;
                await Task.Delay(200);
            }
            if (worker.HasExited)
                crashes++;
            else
                break;
            Assert.True(DateTime.UtcNow < deadline, $"gave up after {crashes} crashes");
        }

        var failed = await GanServiceFactory.GetJobAsync(client, crasher.Id);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.StartsWith("Gave up after 3 attempts", failed.Error);
        Assert.Equal(3, crashes);
        Assert.Equal(3, (await AttemptsAsync(client, crasher.Id)).Count);
        Assert.Equal(JobStatus.Succeeded, (await GanServiceFactory.GetJobAsync(client, healthy.Id)).Status);
    }

    private static Task WaitSucceededAsync(HttpClient client, Guid id, WorkerProcess worker) =>
        WaitWhileWorkingAsync(client, id, worker, j => j.Status == JobStatus.Succeeded);

    /// <summary>
    /// Polls until <paramref name="done"/>, failing at once (with the worker's log)
    /// if the job ends otherwise or the worker dies.
    /// </summary>
    private static async Task WaitWhileWorkingAsync(
        HttpClient client,
        Guid id,
        WorkerProcess worker,
        Func<JobResponse, bool> done
    )
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var job = await GanServiceFactory.GetJobAsync(client, id);
            if (done(job))
                return;
            Assert.True(
                job.Status is JobStatus.Queued or JobStatus.Running,
                $"job ended {job.Status}: {job.Error}\n{worker.Log}"
            );
            Assert.False(
                worker.HasExited,
                $"the worker exited with {(worker.HasExited ? worker.ExitCode : 0)}:\n{worker.Log}"
            );
            Assert.True(DateTime.UtcNow < deadline, $"job still {job.Status} at step {job.Step}\n{worker.Log}");
            await Task.Delay(100);
        }
    }

    private static async Task<List<CheckpointResponse>> CheckpointsAsync(HttpClient client, Guid id) =>
        (
            await client.GetFromJsonAsync<List<CheckpointResponse>>(
                $"/api/jobs/{id}/checkpoints",
                GanServiceFactory.Json
            )
        )!;

    public static async Task<List<AttemptResponse>> AttemptsAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<List<AttemptResponse>>($"/api/jobs/{id}/attempts", GanServiceFactory.Json))!;

    /// <summary>
    /// The SHA-256 of every entry of the job's final checkpoint, read from the downloaded bundle's manifest.
    /// </summary>
    private static async Task<IReadOnlyDictionary<string, string>> FinalEntriesAsync(HttpClient client, Guid id)
    {
        var last = (await CheckpointsAsync(client, id))[^1];
        Assert.Equal(160, last.Step);
        var bytes = await client.GetByteArrayAsync(last.Links.Bundle);
        using var reader = CheckpointBundle.Open(bytes, last.Sha256);
        return reader.Manifest.Entries;
    }
}
