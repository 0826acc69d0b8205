using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using GanService.Gan.Checkpoints;
using GanService.Gan.Training;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GanService.Tests;

/// <summary>
/// A checkpoint is one PostgreSQL bytea, at most 1 GB: a recipe whose bundle would be larger is refused at submit,
/// naming the field that makes it large with the size and the limit, instead of failing at its first checkpoint.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CheckpointBudgetTests(PostgresServer postgres) : ApiOnlyHost(postgres)
{
    private static object StyleGan256(int? width = null, int? latentSize = null, int? mappingLayers = null) =>
        new
        {
            dataset = "synthetic",
            model = new
            {
                family = "stylegan",
                imageSize = 256,
                channels = 3,
                width,
                latentSize,
                mappingLayers,
            },
        };

    [Fact]
    public async Task A_stylegan_too_wide_for_one_checkpoint_is_a_400_naming_the_width_with_its_size()
    {
        var response = await Client.PostAsJsonAsync("/api/jobs", StyleGan256(width: 256));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal(["model.width"], problem.Errors.Keys);
        // A 256-px StyleGAN of width 256 holds about 85 M floats in each of G, its average and D, and twice that in
        // Adam's moments: about 1.7 GB.
        long bytes = BundleSize.Estimate(
            new TrainingPlan(
                new ModelRecipe("stylegan", 256, 3, 64, Normalization: "none") { Width = 256 },
                new OptimizerRecipe(),
                1
            )
            {
                EmaDecay = 0.99,
            }
        );
        Assert.InRange(bytes, 1_500_000_000, 2_000_000_000);
        var message = problem.Errors["model.width"][0];
        Assert.Contains(bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes", message);
        Assert.Contains("at most 1,000,000,000", message);
        Assert.Contains("Gan:MaxCheckpointBytes", message);
        var page = (await Client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!;
        Assert.Equal(0, page.Total);
    }

    [Fact]
    public async Task A_long_latent_is_named_when_it_is_what_makes_the_checkpoint_large()
    {
        // Eight 4096 x 4096 mapping layers alone are 134 M floats, stored four times (G, its average, two moments).
        var response = await Client.PostAsJsonAsync(
            "/api/jobs",
            StyleGan256(width: 32, latentSize: 4096, mappingLayers: 8)
        );

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal(["model.latentSize"], problem.Errors.Keys);
    }

    [Fact]
    public async Task The_same_recipe_at_the_default_width_is_accepted()
    {
        var job = await Service.SubmitAsync(Client, StyleGan256());

        Assert.Equal(JobStatus.Queued, job.Status);
        Assert.Equal((256, 16), (job.Model.ImageSize, job.Model.Width));
    }

    [Fact]
    public async Task A_limit_above_what_postgresql_stores_is_refused_at_start()
    {
        await using var host = new GanServiceFactory(
            Service.ConnectionString,
            role: "api",
            settings: new Dictionary<string, string?> { ["Gan:MaxCheckpointBytes"] = "2000000000" }
        );

        var error = Assert.ThrowsAny<OptionsValidationException>(() => host.CreateClient());

        Assert.Contains("Gan:MaxCheckpointBytes must be between 1 and", error.Message);
    }
}
