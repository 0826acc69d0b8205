using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Tests;

/// <summary>
/// The loss family and the conditional DCGAN through the API: recipe, training, checkpoints, sampling by label.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FamilyJobTests(PostgresServer postgres, BuiltOnce<TrainedJob> jobs)
    : IClassFixture<BuiltOnce<TrainedJob>>
{
    private Task<TrainedJob> ConditionalAsync() => jobs.GetAsync("conditional", () => TrainedJob.RunAsync(
                postgres,
                new
                {
                    dataset = "synthetic",
                    model = new { family = "conditional-dcgan" },
                    training = new
                    {
                        steps = 6,
                        batchSize = 16,
                        ema = 0.99,
                    },
                    checkpointEvery = 6,
                    seed = 4,
                }
            ));

    private Task<TrainedJob> WganGpAsync() => jobs.GetAsync("wgan-gp", () => TrainedJob.RunAsync(
                postgres,
                new
                {
                    dataset = "synthetic",
                    model = new { family = "dcgan" },
                    training = new
                    {
                        steps = 4,
                        batchSize = 16,
                        loss = "wgan-gp",
                        augment = "translation, color",
                    },
                    checkpointEvery = 2,
                }
            ));

    [Fact]
    public async Task A_conditional_dcgan_job_samples_the_asked_labels()
    {
        var conditional = await ConditionalAsync();
        var (client, samples) = (conditional.Client, $"{conditional.Generator}/samples.png");
        Assert.Equal((4, "batch"), (conditional.Submitted.Model.Classes, conditional.Submitted.Model.Normalization));

        var rows = await client.GetAsync($"{samples}?label=0,1,2,3&count=16&columns=4&seed=1");
        Assert.Equal(HttpStatusCode.OK, rows.StatusCode);
        using (var grid = TestData.DecodePng(await rows.Content.ReadAsByteArrayAsync()))
            Assert.Equal((122, 122), (grid.Width, grid.Height));
        var two = await client.GetByteArrayAsync($"{samples}?label=2&count=4&seed=1");
        Assert.NotEqual(two, await client.GetByteArrayAsync($"{samples}?label=3&count=4&seed=1"));
        Assert.Equal(two, await client.GetByteArrayAsync($"{samples}?label=2&count=4&seed=1"));
    }

    [Fact]
    public async Task A_conditional_dcgan_job_refuses_unknown_labels()
    {
        var conditional = await ConditionalAsync();
        foreach (var bad in new[] { "label=4", "label=-1", "label=one", "label=1,,2" })
        {
            var response = await conditional.Client.GetAsync($"{conditional.Generator}/samples.png?{bad}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
            Assert.Contains("label", problem!.Errors.Keys);
        }
    }

    [Fact]
    public async Task A_wgan_gp_job_with_augmentation_trains()
    {
        var wgan = await WganGpAsync();
        var (model, training) = (wgan.Submitted.Model, wgan.Submitted.Training);
        Assert.Equal(
            ("none", 5, 10.0, "translation,color"),
            (model.Normalization, training.CriticSteps, training.GradientPenalty, training.Augment)
        );
        Assert.True(double.IsFinite(wgan.Done.Latest!.DiscriminatorLoss));
        Assert.Equal(HttpStatusCode.OK, (await wgan.Client.GetAsync($"{wgan.Generator}/image.png?seed=3")).StatusCode);
    }

    [Fact]
    public async Task An_unconditional_generator_refuses_labels()
    {
        var wgan = await WganGpAsync();
        var labelled = await wgan.Client.GetAsync($"{wgan.Generator}/image.png?seed=3&label=1");
        Assert.Equal(HttpStatusCode.BadRequest, labelled.StatusCode);
    }
}
