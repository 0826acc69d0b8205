using System.Globalization;
using GanService.Gan.Checkpoints;
using GanService.Gan.Families;
using GanService.Gan.Training;

namespace GanService.Jobs;

/// <summary>
/// Refuses at submit a plan whose checkpoint bundle would be larger than <c>Gan:MaxCheckpointBytes</c>: PostgreSQL
/// stores no bytea over 1 GB, so such a job would train until its first checkpoint and fail there
/// (docs/reliability.md#budgets).
/// </summary>
internal static class CheckpointBudget
{
    /// <summary>Reports, under the field that makes it large, a plan whose bundle is over the limit.</summary>
    public static void Check(
        TrainingPlan plan,
        ModelFamily family,
        ModelRequest? sent,
        long limit,
        Action<string, string> fail
    )
    {
        long bytes = BundleSize.Estimate(plan);
        if (bytes <= limit)
            return;
        var field = Culprit(plan, family, sent);
        fail(
            field,
            string.Create(
                CultureInfo.InvariantCulture,
                $"Each checkpoint of this recipe would take {bytes:N0} bytes (its networks' weights and "
                    + $"optimizer states); at most {limit:N0} are allowed (Gan:MaxCheckpointBytes). "
                    + $"Use a smaller {field}."
            )
        );
    }

    /// <summary>
    /// Of the size fields the request sent, the one whose default shrinks the bundle most; without any, the image
    /// size, which every family's networks grow with.
    /// </summary>
    private static string Culprit(TrainingPlan plan, ModelFamily family, ModelRequest? sent)
    {
        var model = plan.Model;
        var defaults = family.Defaults;
        var candidates = new (string Field, bool Sent, ModelRecipe Reset)[]
        {
            (FamilyFields.WidthField, sent?.Width is not null, model with { Width = defaults.Width }),
            ("model.latentSize", sent?.LatentSize is not null, model with { LatentSize = defaults.LatentSize }),
            (
                FamilyFields.MappingField,
                sent?.MappingLayers is not null,
                model with
                {
                    MappingLayers = defaults.MappingLayers,
                }
            ),
            ("model.imageSize", sent?.ImageSize is not null, model with { ImageSize = family.ImageSizes[0] }),
        };
        return candidates
            .Where(c => c.Sent && c.Reset != model)
            .Select(c => (c.Field, Bytes: BundleSize.Estimate(plan with { Model = c.Reset })))
            .OrderBy(c => c.Bytes)
            .Select(c => c.Field)
            .FirstOrDefault()
            ?? "model.imageSize";
    }
}
