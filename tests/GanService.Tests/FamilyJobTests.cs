using System.Net;
using System.Net.Http.Json;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Tests;

/// <summary>The loss family and the conditional DCGAN through the API: recipe, training, checkpoints, sampling by label.</summary>
[Collection(PostgresCollection.Name)]
public sealed class FamilyJobTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_conditional_dcgan_job_samples_the_asked_labels_and_refuses_unknown_ones()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        using var client = service.CreateClient();
        var job = await service.SubmitAsync(client, new
        {
            dataset = "synthetic", model = new { family = "conditional-dcgan" }, training = new { steps = 6, batchSize = 16, ema = 0.99 },
            checkpointEvery = 6, seed = 4,
        });
        Assert.Equal((4, "batch"), (job.Model.Classes, job.Model.Normalization));
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);

        var rows = await client.GetAsync($"/api/generators/{job.Id}/samples.png?label=0,1,2,3&count=16&columns=4&seed=1");
        Assert.Equal(HttpStatusCode.OK, rows.StatusCode);
        using (var grid = TestData.DecodePng(await rows.Content.ReadAsByteArrayAsync()))
            Assert.Equal((122, 122), (grid.Width, grid.Height));
        var two = await client.GetByteArrayAsync($"/api/generators/{job.Id}/samples.png?label=2&count=4&seed=1");
        Assert.NotEqual(two, await client.GetByteArrayAsync($"/api/generators/{job.Id}/samples.png?label=3&count=4&seed=1"));
        Assert.Equal(two, await client.GetByteArrayAsync($"/api/generators/{job.Id}/samples.png?label=2&count=4&seed=1"));

        foreach (var bad in new[] { "label=4", "label=-1", "label=one", "label=1,,2" })
        {
            var response = await client.GetAsync($"/api/generators/{job.Id}/samples.png?{bad}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("label", (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        }
    }

    [Fact]
    public async Task A_wgan_gp_job_with_augmentation_trains_and_an_unconditional_generator_refuses_labels()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        using var client = service.CreateClient();
        var job = await service.SubmitAsync(client, new
        {
            dataset = "synthetic", model = new { family = "dcgan" },
            training = new { steps = 4, batchSize = 16, loss = "wgan-gp", augment = "translation, color" }, checkpointEvery = 2,
        });
        Assert.Equal(("none", 5, 10.0, "translation,color"), (job.Model.Normalization, job.Training.CriticSteps, job.Training.GradientPenalty, job.Training.Augment));
        var done = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
        Assert.True(double.IsFinite(done.Latest!.DiscriminatorLoss));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/generators/{job.Id}/image.png?seed=3")).StatusCode);
        var labelled = await client.GetAsync($"/api/generators/{job.Id}/image.png?seed=3&label=1");
        Assert.Equal(HttpStatusCode.BadRequest, labelled.StatusCode);
    }
}
