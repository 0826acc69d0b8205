using System.Text.Json.Nodes;
using GanService.Jobs;
using Npgsql;

namespace GanService.Tests;

/// <summary>
/// Rows outlive the code that wrote them: a job stored with the recipe shape of an earlier version (the plan's fields
/// flat beside the job's) still reads, trains and samples.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StoredRecipeTests(PostgresServer postgres)
{
    private static object Request =>
        new
        {
            name = "stored-flat",
            dataset = "synthetic",
            model = new
            {
                family = "dcgan",
                imageSize = 28,
                channels = 1,
            },
            training = new
            {
                steps = 6,
                batchSize = 8,
                generatorLearningRate = 3e-4,
                discriminatorLearningRate = 1e-4,
                beta1 = 0.4,
                loss = "lsgan",
                r1 = 0.5,
                r1Every = 2,
                ema = 0.5,
                augment = "color",
            },
            checkpointEvery = 3,
            seed = 21,
            device = "cpu",
        };

    /// <summary><see cref="Request"/> as the earlier version stored it in <c>training_jobs.recipe</c>.</summary>
    private const string FlatRecipe = """
        {"name": "stored-flat", "dataset": "synthetic",
         "model": {"family": "dcgan", "imageSize": 28, "channels": 1, "latentSize": 100, "classes": 0,
                   "normalization": "batch", "width": 16, "attentionResolution": 0, "mappingLayers": 4,
                   "styleMixing": 0},
         "optimizer": {"generatorLearningRate": 0.0003, "discriminatorLearningRate": 0.0001, "beta1": 0.4,
                       "beta2": 0.999},
         "loss": "lsgan", "steps": 6, "batchSize": 8, "checkpointEvery": 3, "seed": 21, "device": "cpu",
         "criticSteps": 1, "gradientPenalty": 0, "r1": 0.5, "r1Every": 2, "emaDecay": 0.5, "augment": "color",
         "l1": 100, "orthogonalRegularization": 0, "imagesPerPhase": 0}
        """;

    [Fact]
    public async Task A_job_stored_with_the_flat_recipe_reads_as_before_then_trains_and_samples()
    {
        var database = await postgres.CreateDatabaseAsync();
        Guid id;
        await using (var api = new GanServiceFactory(database, role: "api"))
        {
            using var client = api.CreateClient();
            id = (await api.SubmitAsync(client, Request)).Id;
            var stored = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!;
            Assert.Equal(
                Compact(
                    """
                    {"steps": 6, "batchSize": 8, "generatorLearningRate": 0.0003, "discriminatorLearningRate": 0.0001,
                     "beta1": 0.4, "beta2": 0.999, "loss": "lsgan", "criticSteps": 1, "gradientPenalty": 0, "r1": 0.5,
                     "ema": 0.5, "augment": "color", "l1": 100, "r1Every": 2}
                    """
                ),
                stored["training"]!.ToJsonString()
            );

            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                await using var flatten = new NpgsqlCommand(
                    """UPDATE gan.training_jobs SET "Recipe" = @recipe::jsonb WHERE "Id" = @id""",
                    connection
                );
                flatten.Parameters.AddWithValue("recipe", FlatRecipe);
                flatten.Parameters.AddWithValue("id", id);
                Assert.Equal(1, await flatten.ExecuteNonQueryAsync());
            }
            var reread = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!;
            // The earlier version stored no evaluation plan, so the job reads as one with none scheduled.
            Assert.Null(reread["evaluation"]);
            stored.AsObject().Remove("evaluation");
            Assert.Equal(stored.ToJsonString(), reread.ToJsonString());
        }

        // A worker picks up the job queued above and trains it from the flat recipe.
        await using var service = new GanServiceFactory(database);
        using var worker = service.CreateClient();
        var job = await GanServiceFactory.WaitForStatusAsync(worker, id, JobStatus.Succeeded);
        Assert.Equal((6L, 3, 21L), (job.Step, job.CheckpointEvery, job.Seed));
        using var image = TestData.DecodePng(await worker.GetByteArrayAsync($"/api/generators/{id}/image.png?seed=1"));
        Assert.Equal((28, 28), (image.Width, image.Height));
    }

    /// <summary>The JSON as the API writes it: no whitespace, properties in the order given.</summary>
    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();
}
