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
public sealed class FaultToleranceTests(
    PostgresServer postgres,
    BuiltOnce<TrainedJob> jobs,
    BuiltOnce<FaultToleranceTests.Outage> outages
) : IClassFixture<BuiltOnce<TrainedJob>>, IClassFixture<BuiltOnce<FaultToleranceTests.Outage>>
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
        var takeover = Task.Run(() =>
            second.Services.GetRequiredService<TrainingRun>().Run(job.Id, CancellationToken.None)
        );
        await takeover.WaitAsync(TimeSpan.FromMinutes(3));

        var done = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
        Assert.Equal(2, done.Attempts);
        var attempts = await WorkerRuns.AttemptsAsync(client, job.Id);
        // The first worker lived, so its attempt is no crash: it marked itself Superseded when it found out.
        Assert.Equal([AttemptOutcome.Superseded, "Succeeded"], attempts.Select(a => a.Outcome));
        long takenOverAt = attempts[1].ResumedFromStep ?? 0;
        var checkpoints = (
            await client.GetFromJsonAsync<List<CheckpointResponse>>(
                $"/api/jobs/{job.Id}/checkpoints",
                GanServiceFactory.Json
            )
        )!;
        Assert.Equal(Enumerable.Range(1, 20).Select(i => i * 10L), checkpoints.Select(c => c.Step));
        // Everything past the takeover point was written by the new attempt, however long the old one kept training.
        Assert.All(checkpoints.Where(c => c.Step > takenOverAt), c => Assert.Equal(2, c.Attempt));
        await Task.Delay(1000); // the fenced worker has had time to try more writes
        Assert.All(
            (
                await client.GetFromJsonAsync<List<CheckpointResponse>>(
                    $"/api/jobs/{job.Id}/checkpoints",
                    GanServiceFactory.Json
                )
            )!.Where(c => c.Step > takenOverAt),
            c => Assert.Equal(2, c.Attempt)
        );
        Assert.Equal(JobStatus.Succeeded, (await GanServiceFactory.GetJobAsync(client, job.Id)).Status);
    }

    private Task<TrainedJob> DivergedAsync() =>
        jobs.GetAsync("diverged", () =>
            TrainedJob.RunAsync(
                postgres,
                TestData.SyntheticJob(steps: 60, checkpointEvery: 10),
                new Dictionary<string, string?> { ["Gan:Faults:DivergeAtStep"] = "27" },
                until: JobStatus.Failed
            )
        );

    [Fact]
    public async Task A_job_stopped_by_an_internal_error_fails_without_the_errors_own_text()
    {
        await using var job = await TrainedJob.RunAsync(
            postgres,
            TestData.SyntheticJob(steps: 20, checkpointEvery: 10),
            new Dictionary<string, string?> { ["Gan:Faults:FailAtStep"] = "5" },
            until: JobStatus.Failed
        );
        var error = job.Done.Error!;
        Assert.StartsWith("The job stopped on an internal error (IOException)", error);
        Assert.Contains(job.Done.Id.ToString(), error);
        Assert.DoesNotContain(Hosting.FaultOptions.FailurePath, error);
        Assert.DoesNotContain("no space left", error);
    }

    [Fact]
    public async Task A_diverged_job_fails_naming_the_step()
    {
        var failed = (await DivergedAsync()).Done;
        Assert.StartsWith("Training diverged at step 27", failed.Error);
    }

    [Fact]
    public async Task A_diverged_job_keeps_its_last_good_checkpoint()
    {
        var diverged = await DivergedAsync();
        var checkpoints = await CheckpointsAsync(diverged.Client, diverged.Done.Id);
        Assert.Equal([10L, 20L], checkpoints.Select(c => c.Step));
        var samples = await diverged.Client.GetAsync($"{diverged.Generator}/samples.png?count=4&seed=1");
        Assert.Equal(HttpStatusCode.OK, samples.StatusCode);
        TestData.DecodePng(await samples.Content.ReadAsByteArrayAsync()).Dispose();
    }

    /// <summary>
    /// A job training through a 30-second outage of a PostgreSQL cluster of its own (stopping it disturbs no other
    /// test), a worker host started during the outage, as one on another machine might be, and a job submitted after
    /// it. The whole story runs at once, its hosts stopped at the end; what each fact checks is kept.
    /// </summary>
    public sealed record Outage(
        List<HttpResponseMessage> Answers,
        JobResponse Done,
        List<long> MetricSteps,
        List<long> CheckpointSteps,
        bool LateExitedDuringOutage,
        HttpStatusCode ReadyAfter,
        JobResponse Next,
        string LateLog,
        long HangfireServers,
        bool LateExitedAtEnd
    ) : IDisposable
    {
        public static async Task<Outage> RunAsync()
        {
            var server = new PostgresServer();
            await server.InitializeAsync();
            try
            {
                var database = await server.CreateDatabaseAsync();
                await using var service = new GanServiceFactory(database);
                var client = service.CreateClient();
                var job = await service.SubmitAsync(client, TestData.SyntheticJob(steps: 300, checkpointEvery: 50));
                await GanServiceFactory.WaitForAsync(client, job.Id, j =>
                    j.Status == JobStatus.Running && j.Step >= 30
                );

                await server.StopAsync();
                var outageEnds = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                List<HttpResponseMessage> answers =
                [
                    await client.GetAsync($"/api/jobs/{job.Id}"),
                    await client.PostAsJsonAsync("/api/jobs", TestData.SyntheticJob()),
                    await client.GetAsync("/health/ready"),
                    await client.GetAsync("/health/live"),
                ];
                // Its invisibility timeout is long, as the product's is against this outage: the running job stays.
                await using var late = WorkerProcess.Start(
                    database,
                    new Dictionary<string, string> { ["Gan:InvisibilityTimeout"] = "00:10:00" }
                );
                await Task.Delay(outageEnds - DateTime.UtcNow);
                bool lateExitedDuringOutage = late.HasExited;
                await server.StartAsync();

                var done = await TrainedJob.WaitForEndAsync(client, job.Id, TimeSpan.FromMinutes(3));
                var metrics = await client.GetFromJsonAsync<List<MetricResponse>>(
                    $"/api/jobs/{job.Id}/metrics",
                    GanServiceFactory.Json
                );
                var checkpoints = await CheckpointsAsync(client, job.Id);
                var ready = (await client.GetAsync("/health/ready")).StatusCode;
                var next = await service.SubmitAsync(client, TestData.SyntheticJob(steps: 20));
                next = await TrainedJob.WaitForEndAsync(client, next.Id, TimeSpan.FromMinutes(1));
                return new Outage(
                    answers,
                    done,
                    metrics!.Select(m => m.Step).ToList(),
                    checkpoints.Select(c => c.Step).ToList(),
                    lateExitedDuringOutage,
                    ready,
                    next,
                    late.Log,
                    await HangfireServersAsync(database, expect: 2),
                    late.HasExited
                );
            }
            finally
            {
                await server.DisposeAsync();
            }
        }

        public void Dispose()
        {
            foreach (var answer in Answers)
                answer.Dispose();
        }
    }

    private Task<Outage> OutageAsync() => outages.GetAsync(Outage.RunAsync);

    [Fact]
    public async Task During_a_database_outage_the_api_answers_503_naming_it()
    {
        var answers = (await OutageAsync()).Answers;
        await AssertUnavailableAsync(answers[0]);
        await AssertUnavailableAsync(answers[1]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answers[2].StatusCode);
        Assert.Equal(HttpStatusCode.OK, answers[3].StatusCode);
    }

    [Fact]
    public async Task Training_rides_out_a_30_second_database_outage()
    {
        var outage = await OutageAsync();
        Assert.Equal(JobStatus.Succeeded, outage.Done.Status);
        Assert.Equal(1, outage.Done.Attempts);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => i * 10L), outage.MetricSteps); // no progress lost
        Assert.Equal(Enumerable.Range(1, 6).Select(i => i * 50L), outage.CheckpointSteps);
    }

    [Fact]
    public async Task A_worker_host_started_during_a_database_outage_waits_for_it()
    {
        var outage = await OutageAsync();
        Assert.False(outage.LateExitedDuringOutage, $"the worker started during the outage exited:\n{outage.LateLog}");
        Assert.Contains("PostgreSQL is unavailable", outage.LateLog);
        Assert.Equal(2, outage.HangfireServers);
        Assert.False(outage.LateExitedAtEnd);
    }

    [Fact]
    public async Task After_a_database_outage_the_queue_drains_without_a_restart()
    {
        // The same host, never restarted, takes new work.
        var outage = await OutageAsync();
        Assert.Equal(HttpStatusCode.OK, outage.ReadyAfter);
        Assert.Equal(JobStatus.Succeeded, outage.Next.Status);
    }

    private static async Task<List<CheckpointResponse>> CheckpointsAsync(HttpClient client, Guid id) =>
        (
            await client.GetFromJsonAsync<List<CheckpointResponse>>(
                $"/api/jobs/{id}/checkpoints",
                GanServiceFactory.Json
            )
        )!;

    /// <summary>
    /// The Hangfire servers registered in the database, waiting up to a minute for <paramref name="expect"/>.
    /// </summary>
    private static async Task<long> HangfireServersAsync(string database, int expect)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM hangfire.server", connection);
        long servers = 0;
        for (var until = DateTime.UtcNow + TimeSpan.FromMinutes(1); DateTime.UtcNow < until; await Task.Delay(250))
            if ((servers = (long)(await count.ExecuteScalarAsync())!) == expect)
                break;
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
