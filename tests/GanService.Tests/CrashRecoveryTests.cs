using GanService.Gan.Checkpoints;
using GanService.Jobs;
using GanService.Jobs.Worker;
using Npgsql;
using static GanService.Tests.WorkerRuns;

namespace GanService.Tests;

/// <summary>
/// The durability promise against crashes, with real processes and real signals: a job loses at most one checkpoint
/// interval to a kill, ends exactly as an uninterrupted run would, and fails after the attempt limit if it keeps
/// crashing its worker.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CrashRecoveryTests(PostgresServer postgres)
{
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
