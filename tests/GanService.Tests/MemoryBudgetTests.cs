using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace GanService.Tests;

/// <summary>
/// Cheap uploads and documented training requests that once took a host's memory, sent to a host running with the
/// default limits as its own process: each is refused from what it would produce, or runs, within a stated bound
/// on the host's peak memory, while the host goes on answering (docs/reliability.md, "Budgets").
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MemoryBudgetTests(PostgresServer postgres, MeasuredHostFixture hosts, ITestOutputHelper output)
    : IClassFixture<MeasuredHostFixture>
{
    private const long UploadBound = 200L << 20,
        TrainingBound = 600L << 20,
        KillAbove = 1536L << 20;

    [Fact]
    public async Task An_idx_gzip_bomb_sent_twice_is_refused_from_its_header()
    {
        var bomb = IdxFiles.Bomb([400_000, 28, 28], zeros: 400_000L * 784); // 314 MB of zeros in 0.3 MB
        var host = await Host();
        var measured = await host.MeasureAsync(
            client =>
                client.PostAsync(
                    "/api/datasets",
                    new MultipartFormDataContent
                    {
                        { new ByteArrayContent(bomb), "images", "train-images-idx3-ubyte.gz" },
                        { new ByteArrayContent(bomb), "images", "t10k-images-idx3-ubyte.gz" },
                    }
                ),
            KillAbove
        );
        await AssertProblem(measured.Result, HttpStatusCode.RequestEntityTooLarge, "images", "fold");
        measured.AssertBounded(UploadBound, output);
    }

    [Fact]
    public async Task Twenty_thousand_one_pixel_pngs_at_256_pixels_are_refused_before_one_is_decoded()
    {
        var zip = UploadFiles.Zip(
            Enumerable
                .Range(0, 20_000)
                .Select(i => ($"{i}.png", UploadFiles.Png(1, 1, new Rgb24((byte)i, (byte)(i >> 8), 7))))
                .ToArray()
        );
        var host = await Host();
        var form = UploadFiles.Form("file", zip, "dots.zip", ("imageSize", "256"));
        var measured = await host.MeasureAsync(client => client.PostAsync("/api/datasets", form), KillAbove);
        await AssertProblem(measured.Result, HttpStatusCode.RequestEntityTooLarge, "imageSize", "limit is 1000000000");
        measured.AssertBounded(UploadBound, output);
    }

    [SharedDataFact("mnist")]
    public async Task Progan_on_mnist_at_256_pixels_trains_on_batches_resized_as_they_are_drawn()
    {
        // 60,000 x 256 x 256 is 3.9 GB even as bytes, past Gan:Datasets:MaxShapedBytes: MNIST stays 28x28.
        var host = await Host();
        var measured = await host.MeasureAsync(
            async client =>
            {
                var response = await client.PostAsJsonAsync(
                    "/api/jobs",
                    new
                    {
                        dataset = "mnist",
                        model = new
                        {
                            family = "progan",
                            imageSize = 256,
                            channels = 1,
                            width = 8,
                        },
                        training = new { steps = 2, batchSize = 8 },
                        checkpointEvery = 2,
                        seed = 3,
                    }
                );
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                var job = (await response.Content.ReadFromJsonAsync<JobResponse>(GanServiceFactory.Json))!;
                return await GanServiceFactory.WaitForStatusAsync(
                    client,
                    job.Id,
                    JobStatus.Succeeded,
                    TimeSpan.FromMinutes(2)
                );
            },
            KillAbove
        );
        Assert.Equal(2, measured.Result.Step);
        measured.AssertBounded(TrainingBound, output);
    }

    /// <summary>The class's host: default limits, the shared data directory where there is one.</summary>
    private Task<MeasuredHost> Host() =>
        hosts.GetAsync(
            postgres,
            SharedData.Root() is { } data
                ? new Dictionary<string, string> { ["Gan:DataDirectory"] = data }
                : new Dictionary<string, string>()
        );

    private static async Task AssertProblem(
        HttpResponseMessage response,
        HttpStatusCode status,
        string field,
        string says
    )
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = JsonSerializer.Deserialize<ValidationProblemDetails>(body, GanServiceFactory.Json)!;
        Assert.True(
            problem.Errors.TryGetValue(field, out var messages),
            $"errors name {string.Join(", ", problem.Errors.Keys)}, not {field}: {body}"
        );
        Assert.Contains(says, string.Join(" ", messages!));
    }
}
