using System.Net;
using System.Net.Http.Json;
using GanService.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Imaging;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using GanService.Jobs;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace GanService.Tests;

/// <summary>
/// The whole path on real parts: submit over HTTP, train in Hangfire, checkpoint in PostgreSQL, sample PNGs.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class JobLifecycleTests(
    PostgresServer postgres,
    BuiltOnce<TrainedJob> jobs,
    BuiltOnce<JobLifecycleTests.Cancelled> cancellations
) : IClassFixture<BuiltOnce<TrainedJob>>, IClassFixture<BuiltOnce<JobLifecycleTests.Cancelled>>
{
    private Task<TrainedJob> SyntheticAsync() =>
        jobs.GetAsync("synthetic", () =>
            TrainedJob.RunAsync(
                postgres,
                TestData.SyntheticJob(steps: 200, batchSize: 64, checkpointEvery: 100, seed: 3)
            )
        );

    [Fact]
    public async Task A_submitted_job_is_queued_at_the_address_the_answer_names()
    {
        var synthetic = await SyntheticAsync();
        var (response, submitted) = (synthetic.Answer, synthetic.Submitted);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/api/jobs/{submitted.Id}", response.Headers.Location!.OriginalString);
        Assert.Equal(JobStatus.Queued, submitted.Status);
        Assert.Equal(200, submitted.TotalSteps);
    }

    [Fact]
    public async Task A_synthetic_job_trains_to_its_last_step()
    {
        var job = (await SyntheticAsync()).Done;
        Assert.Equal((200, 100.0, 1), (job.Step, job.Percent, job.Attempts));
        Assert.NotNull(job.Latest);
        Assert.True(job.Latest!.ImagesPerSecond > 0);
        Assert.NotNull(job.FinishedAt);
    }

    [Fact]
    public async Task A_synthetic_job_stores_a_checkpoint_with_a_preview_every_interval()
    {
        var synthetic = await SyntheticAsync();
        var client = synthetic.Client;
        var checkpoints = (
            await client.GetFromJsonAsync<List<CheckpointResponse>>(
                $"/api/jobs/{synthetic.Done.Id}/checkpoints",
                GanServiceFactory.Json
            )
        )!;
        Assert.Equal([100L, 200L], checkpoints.Select(c => c.Step));
        Assert.All(checkpoints, c => Assert.Matches("^[0-9a-f]{64}$", c.Sha256));
        using (var preview = TestData.DecodePng(await client.GetByteArrayAsync(checkpoints[0].Links.Preview)))
            Assert.Equal(ImageGrid.Size(16, 4, 28), (preview.Width, preview.Height));
    }

    [Fact]
    public async Task A_synthetic_job_records_its_progress_every_ten_steps()
    {
        var synthetic = await SyntheticAsync();
        var metrics = await synthetic.Client.GetFromJsonAsync<List<MetricResponse>>(
            $"/api/jobs/{synthetic.Done.Id}/metrics",
            GanServiceFactory.Json
        );
        Assert.Equal(Enumerable.Range(1, 20).Select(i => i * 10L), metrics!.Select(m => m.Step));
    }

    [Fact]
    public async Task A_synthetic_job_serves_deterministic_samples()
    {
        var synthetic = await SyntheticAsync();
        var (client, samplesUrl) = (synthetic.Client, $"{synthetic.Generator}/samples.png?count=16&columns=4");
        var samples = await client.GetAsync($"{samplesUrl}&seed=1");
        Assert.Equal(HttpStatusCode.OK, samples.StatusCode);
        Assert.Equal("image/png", samples.Content.Headers.ContentType!.MediaType);
        var bytes = await samples.Content.ReadAsByteArrayAsync();
        using (var grid = TestData.DecodePng(bytes))
            Assert.Equal((4 * 28 + 5 * 2, 4 * 28 + 5 * 2), (grid.Width, grid.Height));
        Assert.Equal(bytes, await client.GetByteArrayAsync($"{samplesUrl}&seed=1"));
        Assert.NotEqual(bytes, await client.GetByteArrayAsync($"{samplesUrl}&seed=2"));
    }

    [Fact]
    public async Task A_synthetic_job_learns_the_data()
    {
        // Learned: the pixel histogram of generated images is much closer to the data's than an untrained generator's.
        var synthetic = await SyntheticAsync();
        var plan = new TrainingPlan(new ModelRecipe(), new OptimizerRecipe(), 200, 64, Seed: 3);
        using var data = SyntheticBlobs.Create(28, 1, seed: 3);
        using var real = data.Batch(Enumerable.Range(0, 256).Select(i => (long)i).ToArray(), CPU);
        using var untrained = GeneratorSampler.Untrained(plan, CPU);
        var big = await synthetic.Client.GetByteArrayAsync(
            $"{synthetic.Generator}/samples.png?count=256&columns=16&seed=9"
        );
        using var untrainedTiles = Tiles(untrained.SamplePng(9, 256, 16), 256, 16);
        using var trainedTiles = Tiles(big, 256, 16);
        double before = ImageStatistics.HistogramDistance(untrainedTiles, real);
        double after = ImageStatistics.HistogramDistance(trainedTiles, real);
        Assert.True(after < before * 0.6, $"histogram distance to the data: untrained {before:F3}, trained {after:F3}");
    }

    /// <summary>A job asked to stop while it runs: the answer to the cancel, how long it took, how it ended.</summary>
    public sealed record Cancelled(
        GanServiceFactory Service,
        HttpClient Client,
        HttpStatusCode Answer,
        TimeSpan Took,
        JobResponse Done
    ) : IAsyncDisposable
    {
        public static async Task<Cancelled> RunAsync(PostgresServer postgres)
        {
            var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
            var client = service.CreateClient();
            var endless = TestData.SyntheticJob(steps: 1_000_000, checkpointEvery: 100_000);
            var job = await service.SubmitAsync(client, endless);
            await GanServiceFactory.WaitForAsync(client, job.Id, j => j.Status == JobStatus.Running && j.Step >= 10);

            var cancelledAt = DateTime.UtcNow;
            var cancel = await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
            var done = await GanServiceFactory.WaitForStatusAsync(
                client,
                job.Id,
                JobStatus.Cancelled,
                TimeSpan.FromSeconds(20)
            );
            return new Cancelled(service, client, cancel.StatusCode, DateTime.UtcNow - cancelledAt, done);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Service.DisposeAsync();
        }
    }

    private Task<Cancelled> CancelledAsync() => cancellations.GetAsync(() => Cancelled.RunAsync(postgres));

    [Fact]
    public async Task Cancelling_a_running_job_stops_it_quickly()
    {
        var cancelled = await CancelledAsync();
        Assert.Equal(HttpStatusCode.OK, cancelled.Answer);
        Assert.True(cancelled.Took < TimeSpan.FromSeconds(10), "cancel took too long");
        Assert.True(cancelled.Done.Step < 1_000_000);
    }

    [Fact]
    public async Task A_cancelled_job_keeps_a_sampleable_checkpoint()
    {
        var cancelled = await CancelledAsync();
        var (client, id) = (cancelled.Client, cancelled.Done.Id);
        var checkpoints = await client.GetFromJsonAsync<List<CheckpointResponse>>(
            $"/api/jobs/{id}/checkpoints",
            GanServiceFactory.Json
        );
        Assert.Single(checkpoints!);
        Assert.True(checkpoints![0].Step >= 10);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/generators/{id}/samples.png?seed=1")).StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_job_that_has_ended_is_a_409()
    {
        var cancelled = await CancelledAsync();
        var again = await cancelled.Client.PostAsync($"/api/jobs/{cancelled.Done.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task A_job_interrupted_by_a_shutdown_resumes_from_its_checkpoint_on_the_next_worker()
    {
        var database = await postgres.CreateDatabaseAsync();
        Guid id;
        long checkpointAtStop;
        DateTimeOffset stoppedAt;
        await using (var first = new GanServiceFactory(database))
        {
            using var client = first.CreateClient();
            // Long enough that the run cannot end in the moments a graceful stop takes, on a fast CPU too.
            id = (await first.SubmitAsync(client, TestData.SyntheticJob(steps: 600, checkpointEvery: 1000))).Id;
            await GanServiceFactory.WaitForAsync(client, id, j => j.Step >= 30);
        }
        stoppedAt = DateTimeOffset.UtcNow;
        await using (var connection = new Npgsql.NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var query = new Npgsql.NpgsqlCommand(
                $"SELECT \"Status\" FROM gan.training_jobs WHERE \"Id\" = '{id}'",
                connection
            );
            Assert.Equal("Queued", await query.ExecuteScalarAsync()); // not "Running" on a worker that is gone
        }

        await using var second = new GanServiceFactory(database);
        using var next = second.CreateClient();
        var checkpointsAfterStop = (
            await next.GetFromJsonAsync<List<CheckpointResponse>>($"/api/jobs/{id}/checkpoints", GanServiceFactory.Json)
        )!;
        checkpointAtStop = Assert.Single(checkpointsAfterStop).Step; // written by the graceful shutdown
        Assert.InRange(checkpointAtStop, 30, 599);

        var job = await GanServiceFactory.WaitForStatusAsync(next, id, JobStatus.Succeeded);
        Assert.Equal(2, job.Attempts);
        // No step up to the shutdown checkpoint was trained (and so recorded) again.
        var metrics = (
            await next.GetFromJsonAsync<List<MetricResponse>>($"/api/jobs/{id}/metrics", GanServiceFactory.Json)
        )!;
        Assert.All(metrics.Where(m => m.Step <= checkpointAtStop), m =>
            Assert.True(m.RecordedAt < stoppedAt, $"step {m.Step} was repeated")
        );
        Assert.Contains(metrics, m => m.Step == 600 && m.RecordedAt > stoppedAt);
    }

    [CpuOnlyFact]
    public async Task A_job_that_asks_for_cuda_on_a_worker_without_it_fails_with_a_clear_error()
    {
        await using var service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:Queues:0"] = "gpu", ["Gan:Queues:1"] = "cpu" }
        );
        using var client = service.CreateClient();
        var job = await service.SubmitAsync(client, TestData.SyntheticJob(device: "cuda"));
        var failed = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Failed);
        Assert.Contains("cuda", failed.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, failed.Step);
    }

    private static Tensor Tiles(byte[] png, int count, int columns)
    {
        using var grid = TestData.DecodePng(png);
        var images = zeros(count, 1, 28, 28);
        for (int n = 0; n < count; n++)
        {
            int left = 2 + n % columns * 30,
                top = 2 + n / columns * 30;
            var pixels = new float[28 * 28];
            for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                pixels[y * 28 + x] = grid[left + x, top + y].R / 127.5f - 1;
            images[n, 0].copy_(tensor(pixels).reshape(28, 28));
        }
        return images;
    }
}
