using System.Net;
using System.Net.Http.Json;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;
using Xunit.Abstractions;

namespace GanService.Tests;

/// <summary>
/// The requests for a trained generator that once took a host's memory (sampling, translation, bundle downloads),
/// sent four at a time to a host running with the default limits as its own process: each is refused before any
/// work, or is answered within a stated bound on the host's peak memory, while the host goes on answering
/// (docs/reliability.md, "Budgets"). The generators are trained on the host before anything is measured.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ServingMemoryTests(
    PostgresServer postgres,
    MeasuredHostFixture hosts,
    BuiltOnce<JobResponse> trained,
    ITestOutputHelper output
) : IClassFixture<MeasuredHostFixture>, IClassFixture<BuiltOnce<JobResponse>>
{
    private const int Concurrent = 4;
    private const long RenderBound = 400L << 20,
        // Four near-limit images decoded at once (46 MB each decoded, plus the resize's buffers): +229 MB and +402 MB
        // in two runs of the same code (docs/reliability.md), so the bound leaves room above the second.
        TranslateBound = 512L << 20,
        RefusalBound = 50L << 20,
        DownloadBound = 50L << 20,
        KillAbove = 2048L << 20;

    [Theory]
    [InlineData("samples.png?count=256&label=0&truncation=1e-30", "truncation")] // once took a host to 24 GB
    [InlineData("interpolation.png?from=1&to=2&label=0&steps=100000", "steps")] // past the pixel budget
    public async Task Hostile_sampling_requests_are_refused_before_any_work(string query, string field)
    {
        var (host, root) = await BigGanAsync();
        var measured = await host.MeasureAsync(client => Together(client, $"{root}/{query}"), KillAbove);
        foreach (var response in measured.Result)
            await ModernFamilyJobTests.AssertRefused(response, field);
        measured.AssertBounded(RefusalBound, output);
    }

    [Fact]
    public async Task Full_grids_at_the_truncation_floor_render_within_bounded_memory()
    {
        // At the floor nearly every latent entry needs redrawing: the redraws are bounded, then the rest clipped.
        var (host, root) = await BigGanAsync();
        var measured = await host.MeasureAsync(
            client => Together(client, $"{root}/samples.png?count=256&label=0&truncation=0.04&seed=", seeded: true),
            KillAbove
        );
        foreach (var response in measured.Result)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var grid = TestData.DecodePng(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(Gan.Imaging.ImageGrid.Size(256, 16, 32), (grid.Width, grid.Height));
        }
        measured.AssertBounded(RenderBound, output);
    }

    [Fact]
    public async Task Concurrent_bundle_downloads_stream_without_the_host_holding_a_bundle()
    {
        var (host, job) = await TrainedAsync("wide", width: 64);
        string url = $"/api/jobs/{job.Id}/checkpoints/2/bundle.zip";
        var measured = await host.MeasureAsync(
            client =>
                Task.WhenAll(
                    Enumerable
                        .Range(0, Concurrent)
                        .Select(async _ =>
                        {
                            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
                            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                            await using var body = await response.Content.ReadAsStreamAsync();
                            long read = 0;
                            var buffer = new byte[81920];
                            for (int n; (n = await body.ReadAsync(buffer)) > 0; )
                                read += n;
                            Assert.Equal(response.Content.Headers.ContentLength, read);
                            return read;
                        })
                ),
            KillAbove
        );
        long size = measured.Result[0];
        output.WriteLine($"bundle of {size >> 20} MB, sent {Concurrent} times at once");
        // Held whole even once, the bundles sent would pass the bound several times over.
        Assert.True(size * Concurrent > DownloadBound * 4, $"the bundle is only {size >> 20} MB");
        measured.AssertBounded(DownloadBound, output);
    }

    [Fact]
    public async Task Translations_over_the_body_limit_are_refused_before_their_bodies_arrive()
    {
        var (host, root) = await Pix2PixAsync();
        var body = new byte[64 << 20]; // four times Gan:TranslateMaxBytes, and an upload's limit would allow it
        new Random(3).NextBytes(body);
        var measured = await host.MeasureAsync(
            client =>
                Task.WhenAll(
                    Enumerable
                        .Range(0, Concurrent)
                        .Select(_ =>
                        {
                            // As curl sends a large body: the answer comes before the body, which is then not sent.
                            var request = new HttpRequestMessage(HttpMethod.Post, $"{root}/translate")
                            {
                                Content = UploadFiles.Form("image", body, "big.png"),
                            };
                            request.Headers.ExpectContinue = true;
                            return client.SendAsync(request);
                        })
                ),
            KillAbove
        );
        foreach (var response in measured.Result)
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
            Assert.Contains("image", problem!.Errors.Keys);
        }
        measured.AssertBounded(RefusalBound, output);
    }

    [Fact]
    public async Task Large_images_translate_within_bounded_memory()
    {
        var (host, root) = await Pix2PixAsync();
        // Near Gan:Datasets:MaxImagePixels (16 M): decoded whole, 46 MB each, then resized to the model's 64 px.
        var image = UploadFiles.Png(3900, 3900, new SixLabors.ImageSharp.PixelFormats.Rgb24(40, 90, 200));
        var measured = await host.MeasureAsync(
            client =>
                Task.WhenAll(
                    Enumerable
                        .Range(0, Concurrent)
                        .Select(_ => client.PostAsync($"{root}/translate", UploadFiles.Form("image", image, "big.png")))
                ),
            KillAbove
        );
        foreach (var response in measured.Result)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var translated = TestData.DecodePng(await response.Content.ReadAsByteArrayAsync());
        }
        measured.AssertBounded(TranslateBound, output);
    }

    /// <summary>The class's host and a one-step pix2pix of 64 px trained on it, once: its generator URL.</summary>
    private async Task<(MeasuredHost Host, string Root)> Pix2PixAsync()
    {
        var host = await hosts.GetAsync(postgres, new Dictionary<string, string>());
        var job = await trained.GetAsync("pix2pix", async () =>
        {
            var dataset = await DatasetUploadTests.Upload(host.Client, UploadFiles.PairsZip(4, 64), "pairs.zip");
            return await SubmitAndWaitAsync(
                host,
                new
                {
                    dataset = dataset.Id.ToString(),
                    model = new { family = "pix2pix" },
                    training = new { steps = 1, batchSize = 2 },
                    checkpointEvery = 1,
                }
            );
        });
        return (host, $"/api/generators/{job.Id}");
    }

    /// <summary>The class's host (default limits) and its small trained BigGAN's generator URL, loaded.</summary>
    private async Task<(MeasuredHost Host, string Root)> BigGanAsync()
    {
        var (host, job) = await TrainedAsync("small", width: 8);
        // Loaded once before measuring: what is measured is the request, not the first load of the generator.
        using var warm = await host.Client.GetAsync($"/api/generators/{job.Id}/image.png?seed=1");
        Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        return (host, $"/api/generators/{job.Id}");
    }

    /// <summary>A two-step BigGAN of <paramref name="width"/> trained on the class's host, once.</summary>
    private async Task<(MeasuredHost Host, JobResponse Job)> TrainedAsync(string name, int width)
    {
        var host = await hosts.GetAsync(postgres, new Dictionary<string, string>());
        var job = await trained.GetAsync(name, () => SubmitAndWaitAsync(
                host,
                new
                {
                    dataset = "synthetic",
                    model = new { family = "biggan", width },
                    training = new { steps = 2, batchSize = 8 },
                    checkpointEvery = 2,
                    seed = 4,
                }
            ));
        return (host, job);
    }

    private static async Task<JobResponse> SubmitAndWaitAsync(MeasuredHost host, object recipe)
    {
        var response = await host.Client.PostAsJsonAsync("/api/jobs", recipe);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var submitted = (await response.Content.ReadFromJsonAsync<JobResponse>(GanServiceFactory.Json))!;
        return await GanServiceFactory.WaitForStatusAsync(host.Client, submitted.Id, JobStatus.Succeeded);
    }

    private static async Task<HttpResponseMessage[]> Together(HttpClient client, string url, bool seeded = false) =>
        await Task.WhenAll(Enumerable.Range(1, Concurrent).Select(i => client.GetAsync(seeded ? url + i : url)));
}
