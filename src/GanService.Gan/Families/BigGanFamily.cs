using GanService.Gan.Losses;
using GanService.Gan.Models;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Families;

/// <summary>
/// BigGAN: class-conditional, hinge loss, spectral norm in both networks, two time-scale learning rates (1e-4 for G,
/// 4e-4 for D), orthogonal regularisation and self-attention; samples with the truncation trick.
/// </summary>
public sealed class BigGanFamily : ModernFamily
{
    private static readonly FamilyDefaults BigGanDefaults = ModernDefaults with
    {
        Loss = AdversarialLosses.Hinge,
        GeneratorLearningRate = 1e-4,
        DiscriminatorLearningRate = 4e-4,
        Ema = 0.99,
        OrthogonalRegularization = 1e-4,
        FixedNormalization = ModelRecipe.SpectralNorm,
        AttentionResolution = 16,
    };

    public override string Name => ModelRecipe.BigGan;
    public override FamilyDefaults Defaults => BigGanDefaults;

    public override IReadOnlyCollection<string> Fields =>
        [.. base.Fields, FamilyFields.AttentionField, FamilyFields.OrthogonalField];

    public override bool Conditional => true;
    public override TruncationTrick Truncation => TruncationTrick.RedrawLatents;

    /// <summary>
    /// The smallest threshold: the BigGAN paper goes no lower, and below it nearly every latent entry would need
    /// redrawing (docs/reliability.md#budgets).
    /// </summary>
    public const double MinTruncation = 0.04,
        MaxTruncation = 4;

    protected override string? TruncationProblem(double truncation) =>
        truncation is >= MinTruncation and <= MaxTruncation
            ? null
            : "BigGAN's truncation is the threshold beyond which latent entries are redrawn: "
                + $"at least {MinTruncation}, at most {MaxTruncation}.";

    protected internal override nn.Module CreateGenerator(ModelRecipe recipe) => new BigGanGenerator(recipe);

    protected internal override nn.Module CreateDiscriminator(ModelRecipe recipe) => new BigGanDiscriminator(recipe);
}
