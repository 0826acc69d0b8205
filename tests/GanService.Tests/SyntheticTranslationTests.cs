using System.Net;
using System.Net.Http.Json;
using GanService.Gan.Data;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>
/// The built-in translation sets let pix2pix and cyclegan train with nothing uploaded (Swagger UI's examples use
/// them), and only translation families may name them.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SyntheticTranslationTests(PostgresServer postgres)
{
    // CycleGAN reads the unpaired set by the same path (DataTests checks its domains); its steps are too slow to
    // train here again beside CycleGanJobTests.
    [Fact]
    public async Task Pix2pix_trains_on_the_built_in_pairs_and_translates()
    {
        const string family = "pix2pix",
            dataset = SyntheticBlobs.PairsName;
        await using var run = await TrainedJob.RunAsync(
            postgres,
            new
            {
                dataset,
                model = new { family },
                training = new { steps = 2 },
                checkpointEvery = 2,
                seed = 4,
            },
            timeout: TimeSpan.FromMinutes(5)
        );
        Assert.Equal((JobStatus.Succeeded, 2L), (run.Done.Status, run.Done.Step));
        using var response = await run.Client.PostAsync(
            $"{run.Generator}/translate",
            UploadFiles.Form("image", UploadFiles.Png(64, 64, new Rgb24(200, 30, 30)), "input.png")
        );
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var output = TestData.DecodePng(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((64, 64), (output.Width, output.Height));
    }

    [Fact]
    public async Task A_noise_family_is_refused_the_translation_sets_naming_the_dataset()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api");
        var client = api.CreateClient();
        using var response = await client.PostAsJsonAsync(
            "/api/jobs",
            new { dataset = SyntheticBlobs.PairsName, model = new { family = "dcgan" } }
        );
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Contains("paired", Assert.Single(problem.Errors["dataset"]));
    }
}
