using GanService.Gan.Data;
using GanService.Jobs;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace GanService.Tests;

/// <summary>The conditional DCGAN on real MNIST through the API: samples.png?label=3 shows threes.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ConditionalMnistTests(PostgresServer postgres)
{
    [SharedDataFact("mnist")]
    public async Task Samples_asked_for_threes_look_like_threes_to_a_nearest_class_mean_classifier()
    {
        var root = SharedData.Root()!;
        await using var service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:DataDirectory"] = root }
        );
        using var client = service.CreateClient();
        var job = await service.SubmitAsync(
            client,
            new
            {
                dataset = "mnist",
                model = new { family = "conditional-dcgan" },
                training = new { steps = 600, batchSize = 64 },
                checkpointEvery = 600,
                seed = 3,
            }
        );
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded, TimeSpan.FromMinutes(5));

        // Class means of the real training digits: a simple classifier (about 80% right on real MNIST).
        using var mnist = BuiltInDatasets.Load("mnist", [root], 28, 1, 0);
        using var all = mnist.Batch(Enumerable.Range(0, 20000).Select(i => (long)i).ToArray(), CPU).flatten(1);
        var labels = mnist.Labels!.Take(20000).ToArray();
        using var means = stack(
            Enumerable
                .Range(0, 10)
                .Select(c =>
                    all.index_select(
                            0,
                            tensor(Enumerable.Range(0, 20000).Where(i => labels[i] == c).Select(i => (long)i).ToArray())
                        )
                        .mean([0])
                )
                .ToList(),
            0
        );

        var png = await client.GetByteArrayAsync(
            $"/api/generators/{job.Id}/samples.png?label=3&count=64&columns=8&seed=5"
        );
        using var grid = TestData.DecodePng(png);
        var samples = new float[64 * 784];
        for (int n = 0; n < 64; n++)
        for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++)
            samples[n * 784 + y * 28 + x] = grid[2 + n % 8 * 30 + x, 2 + n / 8 * 30 + y].R / 127.5f - 1;
        using var generated = tensor(samples).view(64, 784);
        using var predicted = cdist(generated, means).argmin(1);
        long threes = predicted.eq(3).sum().item<long>();
        Assert.True(threes >= 32, $"{threes} of 64 samples for label=3 are nearest to the mean three");
    }
}
