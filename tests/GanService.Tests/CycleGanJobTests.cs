using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using GanService.Gan.Data;
using GanService.Gan.Data.Import;
using GanService.Gan.Imaging;
using GanService.Gan.Sampling;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;
using static GanService.Tests.TranslationJobTests;
using static TorchSharp.torch;

namespace GanService.Tests;

/// <summary>
/// What CycleGAN learns is the library's test (CycleGanTests, the same trainer); here the job's short run is
/// enough to check that each direction's endpoint returns that direction's generator applied to the uploaded
/// image, as the downloaded checkpoint computes it, and that a round trip feeds one direction's PNG to the other.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CycleGanJobTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_cyclegan_job_on_unpaired_domains_translates_both_ways_with_its_checkpoints_generators()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        using var client = service.CreateClient();
        using var blobs = SyntheticBlobs.Create(64, 3, seed: 13, count: 36);
        var pngs = Enumerable.Range(0, 36).Select(i => Pair(blobs, i)).ToList();
        // Unpaired: domain A and domain B hold different images.
        var tar = UploadFiles.TarGz(
            pngs.Take(16)
                .Select((p, i) => ($"trainA/{i:D3}.png", p.A))
                .Concat(pngs.Skip(16).Take(16).Select((p, i) => ($"trainB/{i:D3}.png", p.B)))
                .ToArray()
        );
        var dataset = await DatasetUploadTests.Upload(client, tar, "inversion.tar.gz", ("imageSize", "64"));
        Assert.Equal(DatasetKind.Unpaired, dataset.Kind);

        var job = await service.SubmitAsync(
            client,
            new
            {
                dataset = dataset.Id.ToString(),
                model = new { family = "cyclegan" },
                training = new { steps = 4 },
                checkpointEvery = 4,
                evaluation = new { every = 4, samples = 16 },
                seed = 6,
            }
        );
        Assert.Equal(("lsgan", 4), (job.Training.Loss, job.Training.BatchSize));
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded, SlowConvolutions);
        // Its translations are scored against domain B; only pix2pix has paired targets to compare pixels with.
        var scored = Assert.Single(await EvaluationRuns.ListAsync(client, job.Id));
        Assert.Equal((4L, Evaluations.EvaluationStatus.Succeeded), (scored.Step, scored.Status));
        Assert.True(scored.Fd > 0 && scored.L1 is null && scored.Psnr is null, $"{scored}");

        var bundle = await client.GetByteArrayAsync($"/api/jobs/{job.Id}/checkpoints/4/bundle.zip");
        using var forward = TranslationSampler.Load(bundle, CPU);
        using var backward = TranslationSampler.Load(bundle, CPU, backward: true);
        foreach (var (a, _) in pngs.Skip(32))
        {
            var response = await client.PostAsync(
                $"/api/generators/{job.Id}/translate?direction=AtoB",
                UploadFiles.Form("image", a, "a.png")
            );
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var translated = await response.Content.ReadAsByteArrayAsync();
            var back = await client.PostAsync(
                $"/api/generators/{job.Id}/translate?direction=BtoA",
                UploadFiles.Form("image", translated, "ab.png")
            );
            Assert.Equal(HttpStatusCode.OK, back.StatusCode);
            var roundTrip = await back.Content.ReadAsByteArrayAsync();

            AssertSameImage(Translate(forward, a), translated);
            AssertSameImage(Translate(backward, translated), roundTrip);
            Assert.True(
                PixelDifference(Translate(backward, a), translated) > 1,
                "both directions answered with the same generator"
            );
        }
        var badDirection = await client.PostAsync(
            $"/api/generators/{job.Id}/translate?direction=sideways",
            UploadFiles.Form("image", pngs[0].A, "a.png")
        );
        Assert.Contains(
            "direction",
            (await badDirection.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys
        );
    }

    /// <summary>
    /// The library's translation of a PNG, decoded as the service decodes uploads, encoded as it encodes answers.
    /// </summary>
    private static byte[] Translate(TranslationSampler sampler, byte[] png)
    {
        var pixels = new ImageDecoder(new ImportLimits()).Decode(png, "image.png", 64, 3, FitMode.Crop);
        using var input = new ImageDataset("input", pixels, 1, 3, 64);
        using var batch = input.Batch([0], CPU);
        using var output = sampler.Translate(batch);
        return ImageGrid.EncodePng(output, 1, padding: 0);
    }

    // Within one level of 255: the service renders on threads of its own, whose sums may round differently.
    private static void AssertSameImage(byte[] expected, byte[] actual)
    {
        int difference = PixelDifference(expected, actual);
        Assert.True(
            difference <= 1,
            $"largest pixel difference {difference} between the endpoint and the checkpoint's generator"
        );
    }

    private static int PixelDifference(byte[] a, byte[] b)
    {
        using var x = TestData.DecodePng(a);
        using var y = TestData.DecodePng(b);
        Assert.Equal((x.Width, x.Height), (y.Width, y.Height));
        int largest = 0;
        for (int row = 0; row < x.Height; row++)
        for (int column = 0; column < x.Width; column++)
        {
            var (p, q) = (x[column, row], y[column, row]);
            largest = Math.Max(
                largest,
                Math.Max(Math.Abs(p.R - q.R), Math.Max(Math.Abs(p.G - q.G), Math.Abs(p.B - q.B)))
            );
        }
        return largest;
    }
}
