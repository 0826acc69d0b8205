using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using GanService.Gan.Data;
using GanService.Gan.Imaging;
using Microsoft.AspNetCore.Mvc;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace GanService.Tests;

/// <summary>
/// Pix2Pix through the API: a paired upload, a job, and translate answering closer to the target than the input;
/// and each translation family checking its dataset's kind and sizes.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TranslationJobTests(PostgresServer postgres, BuiltOnce<TranslationJobTests.Pix2PixRun> pix2pix)
    : IClassFixture<BuiltOnce<TranslationJobTests.Pix2PixRun>>
{
    // 64x64 translation jobs on a CPU whose oneDNN failed the library's convolution check run on libtorch's own
    // convolutions, several times slower (OneDnnCheck): the deadline detects a stuck job, it is not a speed target.
    internal static readonly TimeSpan SlowConvolutions = TimeSpan.FromMinutes(10);

    /// <summary>A pix2pix job trained on 64 uploaded pairs of an image and its inversion; 8 pairs held out.</summary>
    public sealed record Pix2PixRun(TrainedJob Job, DatasetResponse Dataset, List<(byte[] A, byte[] B)> Pngs)
        : IAsyncDisposable
    {
        public IEnumerable<(byte[] A, byte[] B)> HeldOut => Pngs.Skip(64);

        public static async Task<Pix2PixRun> RunAsync(PostgresServer postgres)
        {
            var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
            var client = service.CreateClient();
            using var blobs = SyntheticBlobs.Create(64, 3, seed: 12, count: 72);
            var pngs = Enumerable.Range(0, 72).Select(i => Pair(blobs, i)).ToList();
            var zip = UploadFiles.Zip(
                pngs.Take(64).SelectMany((p, i) => new[] { ($"A/{i:D3}.png", p.A), ($"B/{i:D3}.png", p.B) }).ToArray()
            );
            var dataset = await DatasetUploadTests.Upload(client, zip, "inversion.zip", ("imageSize", "64"));
            var job = await TrainedJob.RunAsync(
                service,
                client,
                new
                {
                    dataset = dataset.Id.ToString(),
                    model = new { family = "pix2pix" },
                    training = new { steps = 40, batchSize = 8 },
                    checkpointEvery = 40,
                    seed = 1,
                },
                timeout: SlowConvolutions
            );
            return new Pix2PixRun(job, dataset, pngs);
        }

        public ValueTask DisposeAsync() => Job.DisposeAsync();
    }

    private Task<Pix2PixRun> Pix2PixAsync() => pix2pix.GetAsync(() => Pix2PixRun.RunAsync(postgres));

    [Fact]
    public async Task A_paired_upload_trains_a_pix2pix_job_with_its_familys_defaults()
    {
        var (trained, dataset, _) = await Pix2PixAsync();
        var job = trained.Submitted;
        Assert.Equal(DatasetKind.Paired, dataset.Kind);
        Assert.Equal((64, 3, 100.0), (job.Model.ImageSize, job.Model.Channels, job.Training.L1));
        Assert.EndsWith("/translate", job.Links.Samples);
    }

    [Fact]
    public async Task A_pix2pix_job_translates_uploaded_images_into_their_inversions()
    {
        var run = await Pix2PixAsync();
        double inputError = 0,
            outputError = 0;
        foreach (var (a, b) in run.HeldOut)
        {
            var response = await run.Job.Client.PostAsync(
                $"{run.Job.Generator}/translate",
                UploadFiles.Form("image", a, "held-out.png")
            );
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var output = TestData.DecodePng(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal((64, 64), (output.Width, output.Height));
            using var input = TestData.DecodePng(a);
            using var target = TestData.DecodePng(b);
            inputError += MeanAbsoluteError(input, target);
            outputError += MeanAbsoluteError(output, target);
        }
        Assert.True(
            outputError < inputError / 2,
            $"mean absolute error to the target: input {inputError / 8:F1}, translated {outputError / 8:F1}"
        );
    }

    [Fact]
    public async Task A_pix2pix_checkpoint_scored_on_request_reports_its_distance_to_the_paired_targets()
    {
        var job = (await Pix2PixAsync()).Job;
        var url = $"/api/jobs/{job.Done.Id}/checkpoints/best/evaluation";
        using var noBest = await job.Client.PostAsJsonAsync(url, new { samples = 16 });
        Assert.Equal(HttpStatusCode.Conflict, noBest.StatusCode); // scheduled evaluation was off for this job

        using var queued = await job.Client.PostAsJsonAsync(url.Replace("best", "40"), new { samples = 16 });
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        var row = await EvaluationRuns.WaitAsync(job.Client, queued.Headers.Location!.ToString(), SlowConvolutions);

        Assert.Equal(Evaluations.EvaluationStatus.Succeeded, row.Status);
        Assert.True(double.IsFinite(row.Fd!.Value) && row.Fd > 0, $"fd {row.Fd}");
        Assert.InRange(row.L1!.Value, 1e-6, 1);
        Assert.True(row.Psnr > 0 && double.IsFinite(row.Psnr!.Value), $"psnr {row.Psnr}");
    }

    [Fact]
    public async Task A_pix2pix_preview_shows_inputs_outputs_targets_in_rows()
    {
        var job = (await Pix2PixAsync()).Job;
        var png = await job.Client.GetByteArrayAsync($"/api/jobs/{job.Done.Id}/checkpoints/40/preview.png");
        using (var preview = TestData.DecodePng(png))
            Assert.Equal(ImageGrid.Size(12, 3, 64), (preview.Width, preview.Height)); // input, output, target
    }

    [Fact]
    public async Task A_pix2pix_generator_refuses_requests_it_cannot_translate()
    {
        var run = await Pix2PixAsync();
        var (client, generator) = (run.Job.Client, run.Job.Generator);
        var samples = await client.GetAsync($"{generator}/samples.png?seed=1");
        Assert.Equal(HttpStatusCode.BadRequest, samples.StatusCode);
        var notAnImage = await client.PostAsync(
            $"{generator}/translate",
            UploadFiles.Form("image", "not a png"u8.ToArray(), "x.png")
        );
        Assert.Equal(HttpStatusCode.BadRequest, notAnImage.StatusCode);
        Assert.Contains("image", (await notAnImage.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        var wrongPart = await client.PostAsync(
            $"{generator}/translate",
            UploadFiles.Form("file", run.Pngs[0].A, "x.png")
        );
        Assert.Equal(HttpStatusCode.BadRequest, wrongPart.StatusCode);
    }

    [Fact]
    public async Task Each_family_checks_its_dataset_kind_and_sizes()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        using var client = service.CreateClient();
        var builtIn = await client.PostAsJsonAsync(
            "/api/jobs",
            new { dataset = "synthetic", model = new { family = "pix2pix" } }
        );
        Assert.Contains("dataset", (await builtIn.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        var paired = UploadFiles.Zip(
            ("A/1.png", UploadFiles.Png(8, 8, new Rgb24(1, 2, 3))),
            ("B/1.png", UploadFiles.Png(8, 8, new Rgb24(3, 2, 1)))
        );
        var dataset = await DatasetUploadTests.Upload(client, paired, "p.zip", ("imageSize", "16"));
        var size = await client.PostAsJsonAsync(
            "/api/jobs",
            new
            {
                dataset = dataset.Id.ToString(),
                model = new { family = "pix2pix", imageSize = 28 },
                training = new { batchSize = 1 },
            }
        );
        Assert.Contains(
            "model.imageSize",
            (await size.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys
        );
        var dcgan = await client.PostAsJsonAsync(
            "/api/jobs",
            new { dataset = dataset.Id.ToString(), model = new { family = "dcgan" } }
        );
        Assert.Contains("dataset", (await dcgan.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        var cycle = await client.PostAsJsonAsync(
            "/api/jobs",
            new { dataset = "synthetic", model = new { family = "cyclegan" } }
        );
        Assert.Contains("dataset", (await cycle.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);

        // A conditional model needs labels: a flat archive has none.
        var flat = UploadFiles.Zip(
            Enumerable.Range(0, 4).Select(i => ($"{i}.png", UploadFiles.Png(8, 8, new Rgb24(9, 9, 9)))).ToArray()
        );
        var plain = await DatasetUploadTests.Upload(client, flat, "flat.zip", ("imageSize", "28"));
        var conditional = await client.PostAsJsonAsync(
            "/api/jobs",
            new
            {
                dataset = plain.Id.ToString(),
                model = new { family = "conditional-dcgan" },
                training = new { batchSize = 2 },
            }
        );
        Assert.Contains(
            "model.family",
            (await conditional.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys
        );
    }

    /// <summary>Item i as a PNG, and its colour inversion.</summary>
    internal static (byte[] A, byte[] B) Pair(ImageDataset blobs, int i)
    {
        using var image = blobs.Batch([i], CPU);
        using var inverted = image.neg();
        return (ImageGrid.EncodePng(image, 1, padding: 0), ImageGrid.EncodePng(inverted, 1, padding: 0));
    }

    private static double MeanAbsoluteError(SixLabors.ImageSharp.Image<Rgb24> a, SixLabors.ImageSharp.Image<Rgb24> b)
    {
        double sum = 0;
        for (int y = 0; y < a.Height; y++)
        for (int x = 0; x < a.Width; x++)
            sum += Math.Abs(a[x, y].R - b[x, y].R) + Math.Abs(a[x, y].G - b[x, y].G) + Math.Abs(a[x, y].B - b[x, y].B);
        return sum / (3.0 * a.Width * a.Height);
    }
}
