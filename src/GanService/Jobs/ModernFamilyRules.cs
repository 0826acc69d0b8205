using GanService.Gan.Training;

namespace GanService.Jobs;

/// <summary>
/// The fields only BigGAN, ProGAN and StyleGAN read. Each is checked for its family; sent to another family it is a
/// 400 naming the field rather than silently ignored.
/// </summary>
public static class ModernFamilyRules
{
    public const int MaxWidth = 512, MaxMappingLayers = 8;
    public const long MaxImagesPerPhase = 1_000_000_000;

    public sealed record Extras(int Width, int AttentionResolution, int MappingLayers, double StyleMixing, double Orthogonal, long ImagesPerPhase)
    {
        public ModelRecipe Apply(ModelRecipe recipe) => recipe with
        {
            Width = Width, AttentionResolution = AttentionResolution, MappingLayers = MappingLayers, StyleMixing = StyleMixing,
        };
    }

    public static Extras Check(string? family, int imageSize, ModelRequest? model, TrainingRequest? training, Action<string, string> fail)
    {
        var defaults = new ModelRecipe();
        bool modern = ModelRecipe.IsModern(family);
        void Only(object? value, string field, params string[] families)
        {
            if (value is not null && !families.Contains(family))
                fail(field, $"{field} applies to {string.Join(" and ", families)} only; a {family} does not read it.");
        }
        Only(model?.Width, "model.width", ModelRecipe.BigGan, ModelRecipe.ProGan, ModelRecipe.StyleGan);
        Only(model?.AttentionResolution, "model.attentionResolution", ModelRecipe.BigGan);
        Only(model?.MappingLayers, "model.mappingLayers", ModelRecipe.StyleGan);
        Only(model?.StyleMixing, "model.styleMixing", ModelRecipe.StyleGan);
        Only(training?.OrthogonalRegularization, "training.orthogonalRegularization", ModelRecipe.BigGan);
        Only(training?.ImagesPerPhase, "training.imagesPerPhase", ModelRecipe.ProGan);

        int width = model?.Width ?? defaults.Width;
        if (width is < 8 or > MaxWidth) fail("model.width", $"Must be between 8 and {MaxWidth}.");
        int attention = model?.AttentionResolution ?? (family == ModelRecipe.BigGan && imageSize >= 16 ? 16 : 0);
        if (attention != 0 && (attention < 8 || attention > imageSize || (attention & (attention - 1)) != 0))
            fail("model.attentionResolution", $"Use 0 (no self-attention) or a power of two from 8 to the image size ({imageSize}).");
        int mapping = model?.MappingLayers ?? defaults.MappingLayers;
        if (mapping is < 1 or > MaxMappingLayers) fail("model.mappingLayers", $"Must be between 1 and {MaxMappingLayers}.");
        double mixing = model?.StyleMixing ?? (family == ModelRecipe.StyleGan ? defaults.StyleMixing : 0);
        if (!double.IsFinite(mixing) || mixing is < 0 or > 1) fail("model.styleMixing", "Must be a probability from 0 to 1.");
        double orthogonal = training?.OrthogonalRegularization ?? FamilyDefaults.OrthogonalRegularization(family);
        if (!double.IsFinite(orthogonal) || orthogonal is < 0 or > 1) fail("training.orthogonalRegularization", "Must be a finite number from 0 (off) to 1.");
        long phase = training?.ImagesPerPhase ?? 0;
        if (phase is < 0 or > MaxImagesPerPhase) fail("training.imagesPerPhase", $"Must be 0 (share the run evenly) up to {MaxImagesPerPhase}.");
        return modern
            ? new Extras(width, attention, mapping, mixing, orthogonal, phase)
            : new Extras(defaults.Width, 0, defaults.MappingLayers, 0, 0, 0);
    }
}
