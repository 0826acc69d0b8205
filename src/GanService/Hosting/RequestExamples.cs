using System.Text.Json.Nodes;
using GanService.Gan.Families;
using GanService.Gan.Training;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace GanService.Hosting;

/// <summary>
/// Request bodies that work, for Swagger UI's "Try it out": one job per family (the menu under the body), a sample
/// count for an evaluation, an owner for a key. Without them the generated example (<c>"dataset": "string"</c>,
/// <c>"samples": 0</c>) is refused with a 400.
/// </summary>
internal sealed class RequestExamples : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var examples = operation.OperationId switch
        {
            "CreateJob" => Jobs(),
            "EvaluateCheckpoint" => new()
            {
                ["default"] = Example("The job's own sample count, so it competes for best", new JsonObject()),
                ["more samples"] = Example("A steadier estimate", new JsonObject { ["samples"] = 1024 }),
            },
            "CreateKey" => new()
            {
                ["alice"] = Example(
                    "A key for owner alice",
                    new JsonObject { ["owner"] = "alice", ["name"] = "alice's laptop" }
                ),
            },
            _ => null,
        };
        if (examples is null || operation.RequestBody?.Content?.TryGetValue("application/json", out var body) != true)
            return;
        body!.Examples = examples;
        body.Example = null;
    }

    /// <summary>One example per family: a few hundred steps on data every host has.</summary>
    private static Dictionary<string, IOpenApiExample> Jobs() =>
        ModelFamily.All.ToDictionary(
            family => family.Name,
            family =>
                Example(
                    family.Translates
                        ? $"{family.Name} on {TranslationData(family)}, generated on every host"
                        : $"{family.Name} on generated discs (labelled by quadrant), about a minute on 2 cores",
                    new JsonObject
                    {
                        ["dataset"] = family.Translates ? TranslationData(family) : Gan.Data.SyntheticBlobs.Name,
                        ["model"] = new JsonObject { ["family"] = family.Name },
                        ["training"] = new JsonObject { ["steps"] = family.Translates ? 100 : 300 },
                        ["checkpointEvery"] = family.Translates ? 50 : 100,
                        ["seed"] = 1,
                    }
                )
        );

    private static string TranslationData(ModelFamily family) =>
        family.Name == ModelRecipe.Pix2Pix ? Gan.Data.SyntheticBlobs.PairsName : Gan.Data.SyntheticBlobs.UnpairedName;

    private static IOpenApiExample Example(string summary, JsonNode value) =>
        new OpenApiExample { Summary = summary, Value = value };
}
