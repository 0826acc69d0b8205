using System.Net;
using System.Net.Http.Json;
using GanService.Checkpoints;
using GanService.Gan.Imaging;
using GanService.Jobs;
using GanService.Testing;
using Microsoft.AspNetCore.Mvc;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;

namespace GanService.Tests;

/// <summary>
/// BigGAN and ProGAN through the API: growth in the progress, their sampling controls, fields of another family
/// refused; and every modern family on real data (StyleGAN's own story is in <see cref="StyleGanJobTests"/>).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ModernFamilyJobTests(PostgresServer postgres, BuiltOnce<TrainedJob> jobs)
    : IClassFixture<BuiltOnce<TrainedJob>>
{
    internal static readonly Dictionary<string, string?> EveryStep = new() { ["Gan:MetricsEvery"] = "1" };

    // 8 steps of 8 images, 8 images a phase: 4x4, 8 fading in, 8, 16 fading in, 16, 32 fading in, 32, 32.
    private Task<TrainedJob> ProGanAsync() => jobs.GetAsync("progan", () => TrainedJob.RunAsync(
                postgres,
                new
                {
                    dataset = "synthetic",
                    model = new { family = "progan", width = 8 },
                    training = new { steps = 8, batchSize = 8 },
                    checkpointEvery = 2,
                    seed = 3,
                },
                EveryStep
            ));

    [Fact]
    public async Task A_progan_job_reports_its_growth()
    {
        var progan = await ProGanAsync();
        var (client, job, done) = (progan.Client, progan.Submitted, progan.Done);
        Assert.Equal(
            ("wgan-gp", "none", 1, 10.0),
            (job.Training.Loss, job.Model.Normalization, job.Training.CriticSteps, job.Training.GradientPenalty)
        );
        Assert.Equal((32, 1.0), (done.Latest!.Resolution, done.Latest.Alpha));
        var metrics = await client.GetFromJsonAsync<List<MetricResponse>>(
            $"/api/jobs/{job.Id}/metrics",
            GanServiceFactory.Json
        );
        Assert.Equal([4, 8, 8, 16, 16, 32, 32, 32], metrics!.OrderBy(m => m.Step).Select(m => m.Resolution!.Value));
        Assert.Equal([1, 0, 1, 0, 1, 0, 1, 1], metrics!.OrderBy(m => m.Step).Select(m => m.Alpha!.Value));
    }

    [Fact]
    public async Task A_progan_job_previews_its_smaller_stages_enlarged_to_its_size()
    {
        // Checkpoints from smaller stages preview at their resolution, enlarged to 32x32.
        var progan = await ProGanAsync();
        var (client, job) = (progan.Client, progan.Done);
        var checkpoints = await client.GetFromJsonAsync<List<CheckpointResponse>>(
            $"/api/jobs/{job.Id}/checkpoints",
            GanServiceFactory.Json
        );
        foreach (var checkpoint in checkpoints!)
            using (var preview = TestData.DecodePng(await client.GetByteArrayAsync(checkpoint.Links.Preview)))
                Assert.Equal(ImageGrid.Size(16, 4, 32), (preview.Width, preview.Height));
        var early = await client.GetByteArrayAsync($"{progan.Generator}/image.png?seed=1&step=2");
        using (var decoded = TestData.DecodePng(early))
            Assert.Equal((32, 32), (decoded.Width, decoded.Height));
    }

    [Fact]
    public async Task A_progan_job_refuses_controls_it_lacks()
    {
        var progan = await ProGanAsync();
        var (client, root) = (progan.Client, progan.Generator);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{root}/interpolation.gif?from=1&to=2")).StatusCode);
        await AssertRefused(client, $"{root}/image.png?truncation=0.5", "truncation");
        await AssertRefused(client, $"{root}/image.png?noise=const", "noise");
        await AssertRefused(client, $"{root}/samples.png?mix=2", "mix");
        await AssertRefused(client, $"{root}/mixing.png", "jobId");
    }

    [Fact]
    public async Task A_biggan_job_samples_classes_with_truncation()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        using var client = service.CreateClient();
        var job = await service.SubmitAsync(
            client,
            new
            {
                dataset = "synthetic",
                model = new { family = "biggan", width = 8 },
                training = new { steps = 4, batchSize = 8 },
                checkpointEvery = 4,
                seed = 4,
            }
        );
        Assert.Equal(
            (4, "spectral", "hinge", 1e-4, 4e-4, 1e-4, 16),
            (
                job.Model.Classes,
                job.Model.Normalization,
                job.Training.Loss,
                job.Training.GeneratorLearningRate,
                job.Training.DiscriminatorLearningRate,
                job.Training.OrthogonalRegularization,
                job.Model.AttentionResolution
            )
        );
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
        var root = $"/api/generators/{job.Id}";
        var tight = await client.GetByteArrayAsync($"{root}/samples.png?seed=1&count=8&label=2&truncation=0.4");
        Assert.Equal(
            tight,
            await client.GetByteArrayAsync($"{root}/samples.png?seed=1&count=8&label=2&truncation=0.4")
        );
        Assert.NotEqual(tight, await client.GetByteArrayAsync($"{root}/samples.png?seed=1&count=8&label=2"));
        using (
            var strip = TestData.DecodePng(
                await client.GetByteArrayAsync($"{root}/interpolation.png?from=1&to=9&steps=4&label=3&truncation=1")
            )
        )
            Assert.Equal(ImageGrid.Size(4, 4, 32), (strip.Width, strip.Height));
        await AssertRefused(client, $"{root}/image.png?truncation=0", "truncation");
        // Below the floor the redraws would never end: refused before any work, however many images.
        await AssertRefused(client, $"{root}/samples.png?count=256&label=0&truncation=1e-30", "truncation");
        await AssertRefused(client, $"{root}/image.png?noise=random", "noise");
        await AssertRefused(client, $"{root}/interpolation.png?from=1&to=2&label=1,2", "label");
    }

    [Fact]
    public async Task Fields_of_another_family_are_refused_by_name()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        using var client = service.CreateClient();
        foreach (
            var (request, field) in new (object, string)[]
            {
                (new { dataset = "synthetic", model = new { family = "dcgan", width = 32 } }, "model.width"),
                (new { dataset = "synthetic", model = new { family = "stylegan", imageSize = 28 } }, "model.imageSize"),
                (
                    new { dataset = "synthetic", model = new { family = "biggan", normalization = "batch" } },
                    "model.normalization"
                ),
                (
                    new { dataset = "synthetic", model = new { family = "biggan", attentionResolution = 12 } },
                    "model.attentionResolution"
                ),
                (
                    new { dataset = "synthetic", model = new { family = "stylegan", mappingLayers = 9 } },
                    "model.mappingLayers"
                ),
                (
                    new { dataset = "synthetic", model = new { family = "progan", styleMixing = 0.5 } },
                    "model.styleMixing"
                ),
                (
                    new
                    {
                        dataset = "synthetic",
                        model = new { family = "dcgan" },
                        training = new { imagesPerPhase = 100 },
                    },
                    "training.imagesPerPhase"
                ),
            }
        )
        {
            var response = await client.PostAsJsonAsync("/api/jobs", request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(field, (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        }
    }

    /// <summary>
    /// Each family on real images, where ../shared/data has them:
    /// BigGAN on MNIST's labels, ProGAN and StyleGAN on CIFAR-10 colour.
    /// </summary>
    [SharedDataFact("cifar10-subset")]
    public async Task Every_modern_family_trains_on_real_data_and_serves_its_endpoints()
    {
        await using var service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:DataDirectory"] = SharedData.Root() }
        );
        using var client = service.CreateClient();
        foreach (
            var (family, dataset, channels) in new[]
            {
                ("biggan", "mnist", 1),
                ("progan", "cifar10", 3),
                ("stylegan", "cifar10", 3),
            }
        )
        {
            var job = await service.SubmitAsync(
                client,
                new
                {
                    dataset,
                    model = new
                    {
                        family,
                        channels,
                        width = 8,
                    },
                    training = new { steps = 4, batchSize = 8 },
                    checkpointEvery = 4,
                    seed = 1,
                }
            );
            await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
            var checkpoints = await client.GetFromJsonAsync<List<CheckpointResponse>>(
                $"/api/jobs/{job.Id}/checkpoints",
                GanServiceFactory.Json
            );
            using (var preview = TestData.DecodePng(await client.GetByteArrayAsync(checkpoints![0].Links.Preview)))
                Assert.Equal(ImageGrid.Size(16, 4, 32), (preview.Width, preview.Height));
            var root = $"/api/generators/{job.Id}";
            using (
                var strip = TestData.DecodePng(
                    await client.GetByteArrayAsync($"{root}/interpolation.png?from=1&to=2&steps=8")
                )
            )
                Assert.Equal(ImageGrid.Size(8, 8, 32), (strip.Width, strip.Height));
            using (
                var animation = Image.Load(
                    await client.GetByteArrayAsync($"{root}/interpolation.gif?from=1&to=2&steps=8")
                )
            )
                Assert.Equal(8, animation.Frames.Count);
            if (family == "stylegan")
                using (
                    var table = TestData.DecodePng(
                        await client.GetByteArrayAsync($"{root}/mixing.png?rows=1,2,3&columns=4,5,6,7")
                    )
                )
                    Assert.Equal(ImageGrid.Size(20, 5, 32), (table.Width, table.Height));
        }
    }

    internal static async Task AssertRefused(HttpClient client, string url, string field) =>
        await AssertRefused(await client.GetAsync(url), field);

    internal static async Task AssertRefused(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
    }
}
