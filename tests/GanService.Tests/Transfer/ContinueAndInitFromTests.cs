using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using GanService.Checkpoints;
using GanService.Gan.Checkpoints;
using GanService.Jobs;
using GanService.Transfer;

namespace GanService.Tests.Transfer;

/// <summary>
/// Continuing a finished job and starting a new one from another's weights, through the API: a run of 300 steps
/// continued by 300 against one of 600, on one host and database.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ContinueAndInitFromTests(PostgresServer postgres, BuiltOnce<ContinueAndInitFromTests.Runs> runs)
    : IClassFixture<BuiltOnce<ContinueAndInitFromTests.Runs>>
{
    public sealed record Runs(
        GanServiceFactory Service,
        HttpClient Client,
        JobResponse Straight,
        HttpResponseMessage Continued,
        JobResponse ContinuedAnswer,
        HttpResponseMessage RepeatedWhileQueued,
        JobResponse ContinuedDone
    ) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await Service.DisposeAsync();
    }

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    private static object Recipe(int steps) => TestData.SyntheticJob(steps: steps, checkpointEvery: 300, seed: 11);

    private Task<Runs> RunsAsync() =>
        runs.GetAsync(async () =>
        {
            var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
            var client = service.CreateClient();
            var shorter = await service.SubmitAsync(client, Recipe(300));
            await GanServiceFactory.WaitForStatusAsync(client, shorter.Id, JobStatus.Succeeded, Patience);
            var continued = await client.PostAsJsonAsync($"/api/jobs/{shorter.Id}/continue", new { steps = 300 });
            var answer = (await continued.Content.ReadFromJsonAsync<JobResponse>(GanServiceFactory.Json))!;
            var repeated = await client.PostAsJsonAsync($"/api/jobs/{shorter.Id}/continue", new { steps = 300 });
            var straight = await service.SubmitAsync(client, Recipe(600));
            var done = await GanServiceFactory.WaitForStatusAsync(client, shorter.Id, JobStatus.Succeeded, Patience);
            await GanServiceFactory.WaitForStatusAsync(client, straight.Id, JobStatus.Succeeded, Patience);
            return new Runs(service, client, straight, continued, answer, repeated, done);
        });

    [Fact]
    public async Task A_run_continued_ends_with_the_weights_of_one_trained_as_long_bit_for_bit()
    {
        var r = await RunsAsync();
        var straight = await BundleAsync(r.Client, r.Straight.Id, 600);
        var continued = await BundleAsync(r.Client, r.ContinuedDone.Id, 600);
        using var a = CheckpointBundle.Open(straight);
        using var b = CheckpointBundle.Open(continued);
        Assert.Equal(a.Manifest.Plan, b.Manifest.Plan);
        Assert.Contains(CheckpointEntries.Generator, a.Manifest.Entries.Keys);
        foreach (var (entry, sha256) in a.Manifest.Entries)
            Assert.True(b.Manifest.Entries[entry] == sha256, $"{entry} differs from the 600-step run's");
    }

    [Fact]
    public async Task Continuing_queues_the_same_job_with_its_new_length_and_trains_it_as_new_attempts()
    {
        var r = await RunsAsync();
        Assert.Equal(HttpStatusCode.Accepted, r.Continued.StatusCode);
        Assert.Equal($"/api/jobs/{r.ContinuedAnswer.Id}", r.Continued.Headers.Location!.OriginalString);
        Assert.Equal((JobStatus.Queued, 600L), (r.ContinuedAnswer.Status, r.ContinuedAnswer.TotalSteps));
        Assert.Equal(300, r.ContinuedAnswer.ContinuedFrom);
        Assert.Equal(600, r.ContinuedAnswer.Training.Steps);
        Assert.Null(r.ContinuedAnswer.FinishedAt);
        Assert.Equal((600L, 2, 100.0), (r.ContinuedDone.Step, r.ContinuedDone.Attempts, r.ContinuedDone.Percent));
        var attempts = await r.Client.GetFromJsonAsync<List<AttemptResponse>>(
            $"/api/jobs/{r.ContinuedDone.Id}/attempts",
            GanServiceFactory.Json
        );
        Assert.Equal(300, attempts![1].ResumedFromStep);
    }

    [Fact]
    public async Task The_event_stream_of_a_continued_job_replays_both_runs_and_ends_with_the_second()
    {
        var r = await RunsAsync();
        var events = await EventStream.ReadAsync(
            r.Client,
            $"/api/jobs/{r.ContinuedDone.Id}/events",
            TimeSpan.FromSeconds(30)
        );
        var statuses = events.Where(e => e.Type == "status").Select(e => e.Data.Status).ToList();
        Assert.Equal(2, statuses.Count(s => s == JobStatus.Succeeded));
        Assert.Equal(JobStatus.Succeeded, statuses[^1]);
        Assert.Contains(events, e => e.Type == "checkpoint" && e.Data.Checkpoint!.Step == 600);
    }

    [Fact]
    public async Task A_job_already_continued_refuses_to_continue_again_until_it_ends()
    {
        var r = await RunsAsync();
        var detail = await ProblemAsync(r.RepeatedWhileQueued, HttpStatusCode.Conflict);
        Assert.Contains("succeeded or cancelled", detail["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task Continue_names_a_missing_or_excessive_step_count_and_an_unknown_job()
    {
        var r = await RunsAsync();
        var url = $"/api/jobs/{r.Straight.Id}/continue";
        var missing = await ProblemAsync(await r.Client.PostAsJsonAsync(url, new { }), HttpStatusCode.BadRequest);
        Assert.NotNull(missing["errors"]!["steps"]);
        var tooFar = await ProblemAsync(
            await r.Client.PostAsJsonAsync(url, new { steps = JobRequestValidator.MaxSteps }),
            HttpStatusCode.BadRequest
        );
        Assert.Contains("at most", tooFar["errors"]!["steps"]![0]!.GetValue<string>());
        var unknown = await r.Client.PostAsJsonAsync($"/api/jobs/{Guid.NewGuid()}/continue", new { steps = 1 });
        await ProblemAsync(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_cancelled_job_continues_from_the_checkpoint_it_kept_when_cancelled()
    {
        var r = await RunsAsync();
        var job = await r.Service.SubmitAsync(r.Client, TestData.SyntheticJob(steps: 100_000, checkpointEvery: 50_000));
        await GanServiceFactory.WaitForAsync(r.Client, job.Id, j => j.Step > 0, Patience);
        (await r.Client.PostAsync($"/api/jobs/{job.Id}/cancel", null)).EnsureSuccessStatusCode();
        var cancelled = await GanServiceFactory.WaitForStatusAsync(r.Client, job.Id, JobStatus.Cancelled, Patience);
        var kept = (
            await r.Client.GetFromJsonAsync<List<CheckpointResponse>>(
                $"/api/jobs/{job.Id}/checkpoints",
                GanServiceFactory.Json
            )
        )!.Max(c => c.Step);

        var answer = await r.Client.PostAsJsonAsync($"/api/jobs/{job.Id}/continue", new { steps = 5 });
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        var done = await GanServiceFactory.WaitForStatusAsync(r.Client, job.Id, JobStatus.Succeeded, Patience);
        Assert.Equal((kept + 5, kept + 5, kept), (done.Step, done.TotalSteps, done.ContinuedFrom!.Value));
        Assert.Equal(cancelled.Attempts + 1, done.Attempts);
    }

    [Fact]
    public async Task A_new_job_starts_from_another_jobs_weights_on_another_dataset_of_the_same_shape()
    {
        var r = await RunsAsync();
        var source = r.Straight.Id;
        var tuned = await r.Service.SubmitAsync(r.Client, FineTune(new { job = source, step = 300 }));
        var fresh = await r.Service.SubmitAsync(r.Client, FineTune(null));
        Assert.Equal(new InitFromPlan(source, 300), tuned.InitFrom);
        await GanServiceFactory.WaitForStatusAsync(r.Client, tuned.Id, JobStatus.Succeeded, Patience);
        await GanServiceFactory.WaitForStatusAsync(r.Client, fresh.Id, JobStatus.Succeeded, Patience);

        // One step at a learning rate of 1e-7 barely moves the weights: the samples are the source's, give or take
        // the batch-norm statistics of that step, where a fresh generator's look nothing like them.
        var original = await SamplesAsync(r.Client, $"/api/generators/{source}/samples.png?seed=4&step=300");
        var fromSource = await SamplesAsync(r.Client, $"/api/generators/{tuned.Id}/samples.png?seed=4");
        var fromScratch = await SamplesAsync(r.Client, $"/api/generators/{fresh.Id}/samples.png?seed=4");
        double near = MeanDifference(original, fromSource),
            far = MeanDifference(original, fromScratch);
        Assert.True(near < far / 4, $"started from the source: {near:F1} levels apart; from scratch: {far:F1}");
        Assert.Equal(new InitFromPlan(source, 300), (await GanServiceFactory.GetJobAsync(r.Client, tuned.Id)).InitFrom);
    }

    [Fact]
    public async Task A_job_whose_source_is_deleted_before_it_starts_fails_saying_so()
    {
        var r = await RunsAsync();
        var source = await r.Service.SubmitAsync(r.Client, TestData.SyntheticJob(steps: 4, checkpointEvery: 4));
        await GanServiceFactory.WaitForStatusAsync(r.Client, source.Id, JobStatus.Succeeded, Patience);
        // The host's one worker is kept busy, so the fine-tuning job waits in the queue while its source goes.
        var blocker = await r.Service.SubmitAsync(
            r.Client,
            TestData.SyntheticJob(steps: 100_000, checkpointEvery: 50_000)
        );
        await GanServiceFactory.WaitForStatusAsync(r.Client, blocker.Id, JobStatus.Running, Patience);
        var tuned = await r.Service.SubmitAsync(r.Client, FineTune(new { job = source.Id }));
        Assert.Equal(HttpStatusCode.NoContent, (await r.Client.DeleteAsync($"/api/jobs/{source.Id}")).StatusCode);
        (await r.Client.PostAsync($"/api/jobs/{blocker.Id}/cancel", null)).EnsureSuccessStatusCode();

        var failed = await GanServiceFactory.WaitForStatusAsync(r.Client, tuned.Id, JobStatus.Failed, Patience);
        Assert.Contains($"job {source.Id}", failed.Error);
        Assert.Contains("no longer exists", failed.Error);
    }

    [Fact]
    public async Task InitFrom_names_each_field_whose_networks_differ_and_a_missing_job_or_step()
    {
        var r = await RunsAsync();
        var source = r.Straight.Id;
        var other = new
        {
            dataset = "synthetic",
            model = new
            {
                family = "dcgan",
                imageSize = 28,
                channels = 1,
                latentSize = 64,
                normalization = "spectral",
            },
            training = new { steps = 1 },
            initFrom = new { job = source },
        };
        var differs = await ProblemAsync(await r.Client.PostAsJsonAsync("/api/jobs", other), HttpStatusCode.BadRequest);
        var errors = differs["errors"]!.AsObject().Select(e => e.Key).Order();
        Assert.Equal(["model.latentSize", "model.normalization"], errors);
        Assert.Contains("100", differs["errors"]!["model.latentSize"]![0]!.GetValue<string>());

        var noJob = await r.Client.PostAsJsonAsync("/api/jobs", FineTune(new { job = Guid.NewGuid() }));
        Assert.NotNull((await ProblemAsync(noJob, HttpStatusCode.BadRequest))["errors"]!["initFrom.job"]);
        var noStep = await r.Client.PostAsJsonAsync("/api/jobs", FineTune(new { job = source, step = 17 }));
        Assert.NotNull((await ProblemAsync(noStep, HttpStatusCode.BadRequest))["errors"]!["initFrom.step"]);
    }

    /// <summary>A one-step job on real Fashion-MNIST where installed (CI installs it), else other blobs.</summary>
    private static object FineTune(object? initFrom) =>
        new
        {
            dataset = Directory.Exists("/usr/share/datasets/fashion-mnist") ? "fashion-mnist" : "synthetic",
            model = new
            {
                family = "dcgan",
                imageSize = 28,
                channels = 1,
            },
            training = new
            {
                steps = 1,
                batchSize = 16,
                learningRate = 1e-7,
            },
            seed = 99,
            initFrom,
        };

    private static async Task<byte[]> BundleAsync(HttpClient client, Guid job, long step) =>
        await client.GetByteArrayAsync($"/api/jobs/{job}/checkpoints/{step}/bundle.zip");

    private static async Task<byte[]> SamplesAsync(HttpClient client, string url) =>
        await client.GetByteArrayAsync(url);

    private static double MeanDifference(byte[] a, byte[] b)
    {
        using var x = TestData.DecodePng(a);
        using var y = TestData.DecodePng(b);
        double sum = 0;
        for (int row = 0; row < x.Height; row++)
        for (int col = 0; col < x.Width; col++)
            sum += Math.Abs(x[col, row].R - y[col, row].R);
        return sum / (x.Width * x.Height);
    }

    private static async Task<JsonNode> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected) =>
        JsonNode.Parse(await AuthTests.AssertProblemAsync(response, expected))!;
}
