using GanService.Gan.Training;

namespace GanService.Gan.Families;

/// <summary>
/// A request's values of the fields only some families read (null: left out). Each field has one rule whichever
/// family reads it; a family lists the paths it reads in <see cref="ModelFamily.Fields"/> and gives their defaults in
/// <see cref="ModelFamily.Defaults"/>.
/// </summary>
public sealed record FamilyFields(
    int? Width = null,
    int? AttentionResolution = null,
    int? MappingLayers = null,
    double? StyleMixing = null,
    double? OrthogonalRegularization = null,
    long? ImagesPerPhase = null
)
{
    public const string WidthField = "model.width",
        AttentionField = "model.attentionResolution",
        MappingField = "model.mappingLayers",
        StyleMixingField = "model.styleMixing",
        OrthogonalField = "training.orthogonalRegularization",
        PhaseField = "training.imagesPerPhase";

    public const int MaxWidth = 512,
        MaxMappingLayers = 8;
    public const long MaxImagesPerPhase = 1_000_000_000;

    /// <summary>The paths of the fields the request sent.</summary>
    internal IEnumerable<string> Sent() =>
        new (object? Value, string Field)[]
        {
            (Width, WidthField),
            (AttentionResolution, AttentionField),
            (MappingLayers, MappingField),
            (StyleMixing, StyleMixingField),
            (OrthogonalRegularization, OrthogonalField),
            (ImagesPerPhase, PhaseField),
        }
            .Where(f => f.Value is not null)
            .Select(f => f.Field);

    /// <summary>The plan with each field's value, or its default where left out, checked by the field's rule.</summary>
    internal TrainingPlan Apply(TrainingPlan plan, FamilyDefaults defaults, Action<string, string> fail)
    {
        int size = plan.Model.ImageSize;
        int width = Width ?? defaults.Width;
        if (width is < 8 or > MaxWidth)
            fail(WidthField, $"Must be between 8 and {MaxWidth}.");
        int attention = AttentionResolution
            ?? (defaults.AttentionResolution <= size ? defaults.AttentionResolution : 0);
        if (attention != 0 && (attention < 8 || attention > size || (attention & (attention - 1)) != 0))
            fail(AttentionField, $"Use 0 (no self-attention) or a power of two from 8 to the image size ({size}).");
        int mapping = MappingLayers ?? defaults.MappingLayers;
        if (mapping is < 1 or > MaxMappingLayers)
            fail(MappingField, $"Must be between 1 and {MaxMappingLayers}.");
        double mixing = StyleMixing ?? defaults.StyleMixing;
        if (!double.IsFinite(mixing) || mixing is < 0 or > 1)
            fail(StyleMixingField, "Must be a probability from 0 to 1.");
        double orthogonal = OrthogonalRegularization ?? defaults.OrthogonalRegularization;
        if (!double.IsFinite(orthogonal) || orthogonal is < 0 or > 1)
            fail(OrthogonalField, "Must be a finite number from 0 (off) to 1.");
        long phase = ImagesPerPhase ?? 0;
        if (phase is < 0 or > MaxImagesPerPhase)
            fail(PhaseField, $"Must be 0 (share the run evenly) up to {MaxImagesPerPhase}.");
        return plan with
        {
            Model = plan.Model with
            {
                Width = width,
                AttentionResolution = attention,
                MappingLayers = mapping,
                StyleMixing = mixing,
            },
            OrthogonalRegularization = orthogonal,
            ImagesPerPhase = phase,
        };
    }
}
