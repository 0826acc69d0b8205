using GanService.Gan.Models;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Families;

/// <summary>
/// StyleGAN2: a mapping network to w, modulated convolutions with noise inputs, a residual critic; StyleGAN2's learning
/// rate 2e-3 and lazy R1 (every 16th D update); samples with psi truncation, fixed or fresh noise and style mixing.
/// </summary>
public sealed class StyleGanFamily : ModernFamily
{
    private static readonly FamilyDefaults StyleGanDefaults = ModernDefaults with
    {
        GeneratorLearningRate = 2e-3,
        DiscriminatorLearningRate = 2e-3,
        Beta2 = 0.99,
        R1 = 1,
        R1Every = 16,
        Ema = 0.99,
        FixedNormalization = ModelRecipe.NoNorm,
        StyleMixing = 0.9,
    };

    public override string Name => ModelRecipe.StyleGan;
    public override FamilyDefaults Defaults => StyleGanDefaults;

    public override IReadOnlyCollection<string> Fields =>
        [.. base.Fields, FamilyFields.MappingField, FamilyFields.StyleMixingField];

    public override TruncationTrick Truncation => TruncationTrick.TowardAverageStyle;
    public override bool MixesStyles => true;

    protected override string? TruncationProblem(double truncation) =>
        truncation is >= 0 and <= 2
            ? null
            : "StyleGAN's truncation is psi, between 0 (the average image) and 2 (1 is no truncation).";

    protected override void CheckStyles(
        SamplingControls controls,
        ModelRecipe recipe,
        Dictionary<string, string> problems
    )
    {
        int styles = SamplingControls.StyleCount(recipe);
        if (controls.MixSeed < 0)
            problems["mix"] = "Must be zero or positive.";
        if (controls.MixFrom is { } layer && (layer < 1 || layer >= styles))
            problems["mixFrom"] = $"This generator has style layers 0 to {styles - 1}; mix from 1 to {styles - 1}.";
        if (controls.MixFrom is not null && controls.MixSeed is null)
            problems["mix"] = "mixFrom needs mix, the seed whose styles to take.";
    }

    protected internal override nn.Module CreateGenerator(ModelRecipe recipe) => new StyleGenerator(recipe);

    protected internal override nn.Module CreateDiscriminator(ModelRecipe recipe) =>
        new EqualizedDiscriminator(recipe, residual: true);
}
