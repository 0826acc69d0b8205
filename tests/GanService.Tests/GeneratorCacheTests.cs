using System.Net;
using GanService.Generators;
using Microsoft.Extensions.DependencyInjection;

namespace GanService.Tests;

/// <summary>
/// The sampling host's cache of loaded generators: a burst of requests for a cold generator reads its checkpoint
/// once, and the cache holds no more weights than its byte budget while still serving every checkpoint.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class GeneratorCacheTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_burst_of_requests_for_a_cold_generator_reads_its_checkpoint_once()
    {
        await using var job = await TrainedJob.RunAsync(postgres, TestData.SyntheticJob(steps: 2, checkpointEvery: 1));
        var cache = job.Service.Services.GetRequiredService<GeneratorCache>();
        var answers = await Task.WhenAll(
            Enumerable
                .Range(0, 8)
                .Select(seed => job.Client.GetAsync($"{job.Generator}/samples.png?step=1&seed={seed}"))
        );
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(1, cache.Loads);
    }

    [Fact]
    public async Task Past_its_byte_budget_the_cache_keeps_only_the_newest_generator_and_serves_every_checkpoint()
    {
        await using var job = await TrainedJob.RunAsync(
            postgres,
            TestData.SyntheticJob(steps: 2, checkpointEvery: 1),
            settings: new Dictionary<string, string?> { ["Gan:GeneratorCacheBytes"] = "1" }
        );
        var cache = job.Service.Services.GetRequiredService<GeneratorCache>();
        // A new seed each time: a repeated URL would be answered from the encoded-PNG cache instead.
        foreach (var (step, seed) in new[] { (1, 3), (2, 4), (1, 5) })
        {
            var answer = await job.Client.GetAsync($"{job.Generator}/samples.png?step={step}&seed={seed}");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            using var png = TestData.DecodePng(await answer.Content.ReadAsByteArrayAsync());
        }
        Assert.Equal(1, cache.Count);
        Assert.Equal(3, cache.Loads);
    }
}
