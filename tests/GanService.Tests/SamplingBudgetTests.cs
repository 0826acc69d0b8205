using System.Net;

namespace GanService.Tests;

/// <summary>
/// A sampling request's cost is judged from what it will produce before any work starts, and a private generator's
/// images are never offered to shared caches.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SamplingBudgetTests(PostgresServer postgres)
{
    [Fact]
    public async Task Requests_over_the_pixel_budget_are_refused_by_field_and_private_images_stay_private()
    {
        // 28x28x1 images; a budget of 40 of them.
        var settings = new Dictionary<string, string?> { ["Gan:SamplingPixels"] = (40 * 28 * 28).ToString() };
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), settings: settings);
        using var client = service.CreateClient();
        var job = await service.SubmitAsync(client, TestData.SyntheticJob(steps: 10, checkpointEvery: 10));
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, Jobs.JobStatus.Succeeded);
        var root = $"/api/generators/{job.Id}";

        await ModernFamilyJobTests.AssertRefused(client, $"{root}/samples.png?seed=1&count=41", "count");
        await ModernFamilyJobTests.AssertRefused(client, $"{root}/interpolation.png?from=1&to=2&steps=64", "steps");
        using var within = await client.GetAsync($"{root}/samples.png?seed=1&count=40&step=10");
        Assert.Equal(HttpStatusCode.OK, within.StatusCode);
        Assert.True(within.Headers.CacheControl is { Private: true, Public: false }, $"{within.Headers.CacheControl}");
        using var latest = await client.GetAsync($"{root}/image.png?seed=1");
        Assert.True(
            latest.Headers.CacheControl is { Private: true, Public: false, NoCache: true },
            $"{latest.Headers.CacheControl}"
        );
        using var preview = await client.GetAsync($"/api/jobs/{job.Id}/checkpoints/10/preview.png");
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
        Assert.True(
            preview.Headers.CacheControl is { Private: true, Public: false },
            $"{preview.Headers.CacheControl}"
        );
    }
}
