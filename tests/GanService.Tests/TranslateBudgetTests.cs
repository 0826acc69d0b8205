using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>
/// Translation's budget: a body limit of its own, far below a dataset upload's, and a render slot taken only once
/// the image has arrived, so that slow uploads cannot take every slot of a host.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TranslateBudgetTests(PostgresServer postgres, BuiltOnce<TrainedJob> pix2pix)
    : IClassFixture<BuiltOnce<TrainedJob>>
{
    /// <summary>Two render slots, no queue, and a 64 KiB body limit, on a one-step pix2pix job.</summary>
    private Task<TrainedJob> Pix2PixAsync() =>
        pix2pix.GetAsync(async () =>
        {
            var service = new GanServiceFactory(
                await postgres.CreateDatabaseAsync(),
                settings: new Dictionary<string, string?>
                {
                    ["Gan:RateLimits:SamplingConcurrency"] = "1",
                    ["Gan:RateLimits:SamplingQueue"] = "0",
                    ["Gan:TranslateMaxBytes"] = "65536",
                }
            );
            var client = service.CreateClient();
            var dataset = await DatasetUploadTests.Upload(client, UploadFiles.PairsZip(4, 64), "pairs.zip");
            return await TrainedJob.RunAsync(
                service,
                client,
                new
                {
                    dataset = dataset.Id.ToString(),
                    model = new { family = "pix2pix" },
                    training = new { steps = 1, batchSize = 2 },
                    checkpointEvery = 1,
                }
            );
        });

    [Fact]
    public async Task An_image_over_the_translate_body_limit_is_a_413_naming_image()
    {
        var job = await Pix2PixAsync();
        var random = new Random(5);
        var noise = new byte[100_000];
        random.NextBytes(noise); // incompressible: the request is about 100 KB whatever the encoding
        var response = await job.Client.PostAsync(
            $"{job.Generator}/translate",
            UploadFiles.Form("image", noise, "big.png")
        );
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains("image", problem!.Errors.Keys);
    }

    [Fact]
    public async Task Translations_whose_images_are_still_arriving_hold_no_render_slot()
    {
        var job = await Pix2PixAsync();
        // The factory's default client follows redirects, and to do so buffers a request body before sending it.
        using var client = job.Service.CreateClient(new() { AllowAutoRedirect = false });
        var release = new TaskCompletionSource();
        // Three uploads stall after their first bytes: more than the host's two slots with no queue.
        var stalled = Enumerable
            .Range(0, 3)
            .Select(_ => client.PostAsync($"{job.Generator}/translate", new StalledUpload(release.Task)))
            .ToList();
        await Task.Delay(TimeSpan.FromSeconds(1));
        try
        {
            var image = UploadFiles.Png(64, 64, new Rgb24(10, 90, 200));
            var answer = await client.PostAsync(
                $"{job.Generator}/translate",
                UploadFiles.Form("image", image, "a.png")
            );
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            using var png = TestData.DecodePng(await answer.Content.ReadAsByteArrayAsync());
            Assert.Equal((64, 64), (png.Width, png.Height));
        }
        finally
        {
            release.SetResult();
        }
        // Each stalled upload then ends without its closing boundary: cut short, a 400.
        foreach (var response in await Task.WhenAll(stalled))
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>A multipart body that sends its first part's head and a few bytes, then waits to be released.</summary>
    private sealed class StalledUpload : HttpContent
    {
        private const string Boundary = "stalled";
        private readonly Task release;

        public StalledUpload(Task release)
        {
            this.release = release;
            Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var head =
                $"--{Boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"slow.png\"\r\n\r\n"
                + "\x89PNG";
            await stream.WriteAsync(Encoding.Latin1.GetBytes(head));
            await stream.FlushAsync();
            await release;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
