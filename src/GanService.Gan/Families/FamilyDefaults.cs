using GanService.Gan.Losses;
using GanService.Gan.Training;

namespace GanService.Gan.Families;

/// <summary>
/// The settings a family's paper trains with, scaled for CPU runs of minutes where the paper's would take days
/// (batch 32, EMA decay 0.99, width 16). A request overrides any of them. The initial values are DCGAN's; a family
/// states only where it differs (<c>Dcgan with { ... }</c>).
/// </summary>
public sealed record FamilyDefaults
{
    // Before Dcgan, whose initialisers read it: a recipe's own defaults for the fields it carries.
    private static readonly ModelRecipe Recipe = new();

    public static readonly FamilyDefaults Dcgan = new();

    public int Channels { get; init; } = 1;
    public int LatentSize { get; init; } = Recipe.LatentSize;
    public int BatchSize { get; init; } = 64;
    public string Loss { get; init; } = AdversarialLosses.NonSaturatingBce;
    public double GeneratorLearningRate { get; init; } = 2e-4;
    public double DiscriminatorLearningRate { get; init; } = 2e-4;
    public double Beta1 { get; init; } = 0.5;
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Critic updates per generator update under <c>wgan-gp</c> (other losses take 1): WGAN-GP's 5.</summary>
    public int WassersteinCriticSteps { get; init; } = 5;

    public double R1 { get; init; }

    /// <summary>Lazy regularisation: R1 on every this-many-th D update, weighted by it.</summary>
    public int R1Every { get; init; } = 1;

    /// <summary>Decay of the generator's moving average; 0 is off.</summary>
    public double Ema { get; init; }

    public double OrthogonalRegularization { get; init; }

    /// <summary>The discriminator normalisation the family always uses; null lets the request choose.</summary>
    public string? FixedNormalization { get; init; }

    /// <summary>Channels at the 16x16 stage (families that read <c>model.width</c>).</summary>
    public int Width { get; init; } = Recipe.Width;

    /// <summary>The resolution followed by self-attention, where the image is that large; 0 is none.</summary>
    public int AttentionResolution { get; init; }

    public int MappingLayers { get; init; } = Recipe.MappingLayers;

    /// <summary>Probability a training batch mixes two latents' styles; 0 for families without styles.</summary>
    public double StyleMixing { get; init; }
}
