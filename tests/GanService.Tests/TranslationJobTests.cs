using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using GanService.Gan.Data;
using GanService.Gan.Imaging;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace GanService.Tests;

/// <summary>Pix2Pix through the API: a paired upload, a job, and translate answering closer to the target than the input.</summary>
[Collection(PostgresCollection.Name)]
public sealed class TranslationJobTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_pix2pix_job_learns_to_invert_colours_and_translates_uploaded_images()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        using var client = service.CreateClient();
        using var blobs = SyntheticBlobs.Create(64, 3, seed: 12, count: 72);
        var pngs = Enumerable.Range(0, 72).Select(i => Pair(blobs, i)).ToList();
        var zip = UploadFiles.Zip(pngs.Take(64).SelectMany((p, i) => new[] { ($"A/{i:D3}.png", p.A), ($"B/{i:D3}.png", p.B) }).ToArray());
        var dataset = await DatasetUploadTests.Upload(client, zip, "inversion.zip", ("imageSize", "64"));
        Assert.Equal(DatasetKind.Paired, dataset.Kind);

        var job = await service.SubmitAsync(client, new
        {
            dataset = dataset.Id.ToString(), model = new { family = "pix2pix" }, training = new { steps = 40, batchSize = 8 }, checkpointEvery = 40, seed = 1,
        });
        Assert.Equal((64, 3, 100.0), (job.Model.ImageSize, job.Model.Channels, job.Training.L1));
        Assert.EndsWith("/translate", job.Links.Samples);
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);

        double inputError = 0, outputError = 0;
        foreach (var (a, b) in pngs.Skip(64))
        {
            var response = await client.PostAsync($"/api/generators/{job.Id}/translate", UploadFiles.Form("image", a, "held-out.png"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var output = TestData.DecodePng(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal((64, 64), (output.Width, output.Height));
            using var input = TestData.DecodePng(a);
            using var target = TestData.DecodePng(b);
            inputError += MeanAbsoluteError(input, target);
            outputError += MeanAbsoluteError(output, target);
        }
        Assert.True(outputError < inputError / 2, $"mean absolute error to the target: input {inputError / 8:F1}, translated {outputError / 8:F1}");

        using (var preview = TestData.DecodePng(await client.GetByteArrayAsync($"/api/jobs/{job.Id}/checkpoints/40/preview.png")))
            Assert.Equal(ImageGrid.Size(12, 3, 64), (preview.Width, preview.Height)); // input, output, target

        var samples = await client.GetAsync($"/api/generators/{job.Id}/samples.png?seed=1");
        Assert.Equal(HttpStatusCode.BadRequest, samples.StatusCode);
        var notAnImage = await client.PostAsync($"/api/generators/{job.Id}/translate", UploadFiles.Form("image", "not a png"u8.ToArray(), "x.png"));
        Assert.Equal(HttpStatusCode.BadRequest, notAnImage.StatusCode);
        Assert.Contains("image", (await notAnImage.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        var wrongPart = await client.PostAsync($"/api/generators/{job.Id}/translate", UploadFiles.Form("file", pngs[0].A, "x.png"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongPart.StatusCode);
    }

    [Fact]
    public async Task Pix2pix_needs_a_paired_dataset_and_a_translation_size()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        using var client = service.CreateClient();
        var builtIn = await client.PostAsJsonAsync("/api/jobs", new { dataset = "synthetic", model = new { family = "pix2pix" } });
        Assert.Contains("dataset", (await builtIn.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        var paired = UploadFiles.Zip(("A/1.png", UploadFiles.Png(8, 8, new Rgb24(1, 2, 3))), ("B/1.png", UploadFiles.Png(8, 8, new Rgb24(3, 2, 1))));
        var dataset = await DatasetUploadTests.Upload(client, paired, "p.zip", ("imageSize", "16"));
        var size = await client.PostAsJsonAsync("/api/jobs", new { dataset = dataset.Id.ToString(), model = new { family = "pix2pix", imageSize = 28 }, training = new { batchSize = 1 } });
        Assert.Contains("model.imageSize", (await size.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        var dcgan = await client.PostAsJsonAsync("/api/jobs", new { dataset = dataset.Id.ToString(), model = new { family = "dcgan" } });
        Assert.Contains("dataset", (await dcgan.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
    }

    /// <summary>Item i as a PNG, and its colour inversion.</summary>
    private static (byte[] A, byte[] B) Pair(ImageDataset blobs, int i)
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
