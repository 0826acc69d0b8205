using System.Net;
using System.Net.Http.Json;
using GanService.Checkpoints;
using GanService.Jobs;
using GanService.Jobs.Worker;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace GanService.Tests;

/// <summary>Races between workers, divergence and a real PostgreSQL outage, on real Hangfire and TorchSharp.</summary>
[Collection(PostgresCollection.Name)]
public sealed class FaultToleranceTests(PostgresServer postgres)
{
    [Fact]
    public async Task When_a_second_worker_takes_a_running_job_the_first_is_fenced_off_and_writes_nothing_more()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var first = new GanServiceFactory(database);
        var client = first.CreateClient();
        var job = await first.SubmitAsync(client, TestData.SyntheticJob(steps: 200, checkpointEvery: 10));
        await GanServiceFactory.WaitForAsync(client, job.Id, j => j.Status == JobStatus.Running && j.Step >= 20);

        // Forced race: a second worker runs the same job while the first still trains it, as a worker would after
        // an invisibility timeout that expired under a live one.
        await using var second = new GanServiceFactory(database, role: "api");
        var takeover = Task.Run(() => second.Services.GetRequiredService<TrainingRun>().Run(job.Id, CancellationToken.None));
        await takeover.WaitAsync(TimeSpan.FromMinutes(3));

        var done = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
        Assert.Equal(2, done.Attempts);
        var attempts = await CrashRecoveryTests.AttemptsAsync(client, job.Id);
        // The first worker lived, so its attempt is no crash: it marked itself Superseded when it found out.
        Assert.Equal([AttemptOutcome.Superseded, "Succeeded"], attempts.Select(a => a.Outcome));
        long takenOverAt = attempts[1].ResumedFromStep ?? 0;
        var checkpoints = (await client.GetFromJsonAsync<List<CheckpointResponse>>($"/api/jobs/{job.Id}/checkpoints", GanServiceFactory.Json))!;
        Assert.Equal(Enumerable.Range(1, 20).Select(i => i * 10L), checkpoints.Select(c => c.Step));
        // Everything past the takeover point was written by the new attempt, however long the old one kept training.
        Assert.All(checkpoints.Where(c => c.Step > takenOverAt), c => Assert.Equal(2, c.Attempt));
        await Task.Delay(1000); // the fenced worker has had time to try more writes
        Assert.All((await client.GetFromJsonAsync<List<CheckpointResponse>>($"/api/jobs/{job.Id}/checkpoints", GanServiceFactory.Json))!
            .Where(c => c.Step > takenOverAt), c => Assert.Equal(2, c.Attempt));
        Assert.Equal(JobStatus.Succeeded, (await GanServiceFactory.GetJobAsync(client, job.Id)).Status);
    }

    [Fact]
    public async Task A_diverged_job_fails_naming_the_step_and_keeps_its_last_good_checkpoint()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:Faults:DivergeAtStep"] = "27" });
        var client = service.CreateClient();
        var job = await service.SubmitAsync(client, TestData.SyntheticJob(steps: 60, checkpointEvery: 10));

        var failed = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Failed);
        Assert.StartsWith("Training diverged at step 27", failed.Error);
        var checkpoints = (await client.GetFromJsonAsync<List<CheckpointResponse>>($"/api/jobs/{job.Id}/checkpoints", GanServiceFactory.Json))!;
        Assert.Equal([10L, 20L], checkpoints.Select(c => c.Step));
        var samples = await client.GetAsync($"/api/generators/{job.Id}/samples.png?count=4&seed=1");
        Assert.Equal(HttpStatusCode.OK, samples.StatusCode);
        TestData.DecodePng(await samples.Content.ReadAsByteArrayAsync()).Dispose();
    }

    [Fact]
    public async Task Training_rides_out_a_30_second_database_outage_and_the_queue_drains_afterwards_without_a_restart()
    {
        // A cluster of its own, so stopping it disturbs no other test.
        var server = new PostgresServer();
        await server.InitializeAsync();
        try
        {
            var database = await server.CreateDatabaseAsync();
            await using var service = new GanServiceFactory(database);
            var client = service.CreateClient();
            var job = await service.SubmitAsync(client, TestData.SyntheticJob(steps: 300, checkpointEvery: 50));
            await GanServiceFactory.WaitForAsync(client, job.Id, j => j.Status == JobStatus.Running && j.Step >= 30);

            await server.StopAsync();
            var outageEnds = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            var read = await client.GetAsync($"/api/jobs/{job.Id}");
            await AssertUnavailableAsync(read);
            await AssertUnavailableAsync(await client.PostAsJsonAsync("/api/jobs", TestData.SyntheticJob()));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
            // A worker host started during the outage (as one on another machine might be) waits for the database. Its
            // invisibility timeout is long, as the product's is against this outage: the running job stays where it is.
            await using var late = WorkerProcess.Start(database, new Dictionary<string, string> { ["Gan:InvisibilityTimeout"] = "00:10:00" });
            await Task.Delay(outageEnds - DateTime.UtcNow);
            Assert.False(late.HasExited, $"the worker started during the outage exited:\n{late.Log}");
            await server.StartAsync();

            var done = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded, TimeSpan.FromMinutes(3));
            Assert.Equal(1, done.Attempts);
            var metrics = (await client.GetFromJsonAsync<List<MetricResponse>>($"/api/jobs/{job.Id}/metrics", GanServiceFactory.Json))!;
            Assert.Equal(Enumerable.Range(1, 30).Select(i => i * 10L), metrics.Select(m => m.Step)); // no progress lost
            var checkpoints = (await client.GetFromJsonAsync<List<CheckpointResponse>>($"/api/jobs/{job.Id}/checkpoints", GanServiceFactory.Json))!;
            Assert.Equal(Enumerable.Range(1, 6).Select(i => i * 50L), checkpoints.Select(c => c.Step));

            // The same host, never restarted, takes new work.
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
            var next = await service.SubmitAsync(client, TestData.SyntheticJob(steps: 20));
            await GanServiceFactory.WaitForStatusAsync(client, next.Id, JobStatus.Succeeded, TimeSpan.FromMinutes(1));
            Assert.Contains("PostgreSQL is unavailable", late.Log);
            Assert.Equal(2, await HangfireServersAsync(database, expect: 2));
            Assert.False(late.HasExited);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>The Hangfire servers registered in the database, waiting up to a minute for <paramref name="expect"/>.</summary>
    private static async Task<long> HangfireServersAsync(string database, int expect)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM hangfire.server", connection);
        long servers = 0;
        for (var until = DateTime.UtcNow + TimeSpan.FromMinutes(1); DateTime.UtcNow < until; await Task.Delay(250))
            if ((servers = (long)(await count.ExecuteScalarAsync())!) == expect) break;
        return servers;
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("database is unavailable", body);
    }
}
