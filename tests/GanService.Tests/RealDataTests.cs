using System.Net;
using GanService.Gan.Imaging;
using GanService.Jobs;

namespace GanService.Tests;

/// <summary>Jobs on the built-in real datasets, where their files are on this machine (skipped elsewhere).</summary>
[Collection(PostgresCollection.Name)]
public sealed class RealDataTests(PostgresServer postgres)
{
    [SharedDataFact("mnist")]
    public Task An_mnist_job_trains_and_samples_28x28_grey() =>
        TrainAndSample("mnist", SharedData.Root()!, size: 28, channels: 1);

    [SharedDataFact("cifar10-subset")]
    public Task A_cifar10_job_trains_and_samples_32x32_rgb() =>
        TrainAndSample("cifar10", SharedData.Root()!, size: 32, channels: 3);

    [InstalledDataFact("/usr/share/datasets/fashion-mnist")]
    public Task A_fashion_mnist_job_finds_the_debian_package() =>
        TrainAndSample("fashion-mnist", "/usr/share/datasets", size: 28, channels: 1);

    private async Task TrainAndSample(string dataset, string dataDirectory, int size, int channels)
    {
        await using var service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:DataDirectory"] = dataDirectory }
        );
        using var client = service.CreateClient();
        var job = await service.SubmitAsync(
            client,
            new
            {
                dataset,
                model = new
                {
                    family = "dcgan",
                    imageSize = size,
                    channels,
                },
                training = new { steps = 10, batchSize = 16 },
                checkpointEvery = 10,
                seed = 1,
                device = "cpu",
            }
        );
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
        var response = await client.GetAsync($"/api/generators/{job.Id}/samples.png?count=8&columns=4&seed=3");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var grid = TestData.DecodePng(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(ImageGrid.Size(8, 4, size), (grid.Width, grid.Height));
    }
}
