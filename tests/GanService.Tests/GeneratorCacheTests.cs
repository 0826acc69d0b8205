using System.Net;
using GanService.Checkpoints;
using GanService.Gan.Sampling;
using GanService.Generators;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static TorchSharp.torch;

namespace GanService.Tests;

/// <summary>
/// The sampling host's cache of loaded generators: a burst of requests for a cold generator reads its checkpoint
/// once, reading only the generator's entries of it, and the cache holds no more weights than its byte budget while
/// still serving every checkpoint.
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

    [Fact]
    public async Task A_cold_generator_reads_only_its_entries_and_samples_what_the_whole_bundle_does()
    {
        await using var job = await TrainedJob.RunAsync(postgres, TestData.RgbDcganJob);
        var store = (PostgresCheckpointStore)job.Service.Services.GetRequiredService<ICheckpointStore>();
        var bundle = await job.Client.GetByteArrayAsync($"/api/jobs/{job.Done.Id}/checkpoints/1/bundle.zip");

        long before = store.BundleBytesRead;
        var png = await job.Client.GetByteArrayAsync($"{job.Generator}/samples.png?step=1&seed=3&count=4&columns=2");
        long fetched = store.BundleBytesRead - before;

        using var whole = GeneratorSampler.Load(bundle, CPU);
        Assert.Equal(whole.SamplePng(3, 4, 2), png);
        Assert.True(fetched < bundle.Length / 3, $"loading the generator read {fetched} of {bundle.Length} bytes");
        // Stored uncompressed, so PostgreSQL reads only the chunks a range covers (docs/reliability.md#budgets).
        await using var connection = new NpgsqlConnection(job.Service.ConnectionString);
        await connection.OpenAsync();
        await using var storage = new NpgsqlCommand(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = 'gan.checkpoints'::regclass AND attname = 'Bundle'",
            connection
        );
        Assert.Equal('e', await storage.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_checkpoint_removed_while_its_generator_loads_is_not_found_rather_than_an_error()
    {
        await using var job = await TrainedJob.RunAsync(postgres, TestData.SyntheticJob(steps: 1, checkpointEvery: 1));
        var services = job.Service.Services;
        var cache = services.GetRequiredService<GeneratorCache>();
        var loaded = await cache.GetOrLoadAsync(
            services.GetRequiredService<ICheckpointStore>(),
            job.Done.Id,
            1,
            reader =>
            {
                // The manifest has been read; the generator's weights have not.
                using (var connection = new NpgsqlConnection(job.Service.ConnectionString))
                {
                    connection.Open();
                    using var delete = new NpgsqlCommand(
                        $"DELETE FROM gan.checkpoints WHERE \"JobId\" = '{job.Done.Id}'",
                        connection
                    );
                    Assert.Equal(1, delete.ExecuteNonQuery());
                }
                return GeneratorSampler.Load(reader, CPU);
            },
            CancellationToken.None
        );
        Assert.Null(loaded);
        Assert.Equal(0, cache.Count);
    }
}
