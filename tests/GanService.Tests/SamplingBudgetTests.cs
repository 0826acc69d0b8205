using System.Net;

namespace GanService.Tests;

/// <summary>
/// A sampling request's cost is judged from what it will produce before any work starts, and a private generator's
/// images are never offered to shared caches. One short job, with a budget of 40 of its 28x28x1 images, serves
/// every fact.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SamplingBudgetTests(PostgresServer postgres, BuiltOnce<TrainedJob> trained)
    : IClassFixture<BuiltOnce<TrainedJob>>
{
    private Task<TrainedJob> JobAsync() =>
        trained.GetAsync(() =>
            TrainedJob.RunAsync(
                postgres,
                TestData.SyntheticJob(steps: 10, checkpointEvery: 10),
                settings: new Dictionary<string, string?> { ["Gan:SamplingPixels"] = (40 * 28 * 28).ToString() }
            )
        );

    [Fact]
    public async Task Requests_over_the_pixel_budget_are_refused_naming_their_field()
    {
        var job = await JobAsync();
        await ModernFamilyJobTests.AssertRefused(job.Client, $"{job.Generator}/samples.png?seed=1&count=41", "count");
        await ModernFamilyJobTests.AssertRefused(
            job.Client,
            $"{job.Generator}/interpolation.png?from=1&to=2&steps=64",
            "steps"
        );
    }

    [Fact]
    public async Task A_request_at_the_budget_renders()
    {
        var job = await JobAsync();
        using var within = await job.Client.GetAsync($"{job.Generator}/samples.png?seed=1&count=40&step=10");
        Assert.Equal(HttpStatusCode.OK, within.StatusCode);
        using var png = TestData.DecodePng(await within.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_private_generators_images_are_marked_private_for_caches()
    {
        var job = await JobAsync();
        using var seeded = await job.Client.GetAsync($"{job.Generator}/samples.png?seed=2&count=4&step=10");
        Assert.True(seeded.Headers.CacheControl is { Private: true, Public: false }, $"{seeded.Headers.CacheControl}");
        using var latest = await job.Client.GetAsync($"{job.Generator}/image.png?seed=1");
        Assert.True(
            latest.Headers.CacheControl is { Private: true, Public: false, NoCache: true },
            $"{latest.Headers.CacheControl}"
        );
        using var preview = await job.Client.GetAsync($"/api/jobs/{job.Done.Id}/checkpoints/10/preview.png");
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
        Assert.True(
            preview.Headers.CacheControl is { Private: true, Public: false },
            $"{preview.Headers.CacheControl}"
        );
    }
}
