using System.Text.Json.Serialization;

namespace GanService.Gan.Training;

/// <summary>
/// The network recipe: which family, at which image geometry; <paramref name="Classes"/> for class-conditional
/// families; <paramref name="Normalization"/> of the discriminator: batch norm, none (a WGAN-GP critic) or spectral.
/// </summary>
public sealed record ModelRecipe(
    string Family = ModelRecipe.Dcgan, int ImageSize = 28, int Channels = 1, int LatentSize = 100,
    int Classes = 0, string Normalization = ModelRecipe.BatchNorm)
{
    public const string Dcgan = "dcgan", ConditionalDcgan = "conditional-dcgan", Pix2Pix = "pix2pix", CycleGan = "cyclegan";
    public const string BatchNorm = "batch", NoNorm = "none", SpectralNorm = "spectral";
    public static readonly IReadOnlyList<string> Families = [Dcgan, ConditionalDcgan, Pix2Pix, CycleGan];
    public static readonly IReadOnlyList<int> TranslationSizes = [64, 128, 256];
    [JsonIgnore] public bool Translation => Family is Pix2Pix or CycleGan;
    public static readonly IReadOnlyList<string> Normalizations = [BatchNorm, NoNorm, SpectralNorm];
    [JsonIgnore] public bool Conditional => Family == ConditionalDcgan;
    public static readonly IReadOnlyList<int> ImageSizes = [28, 32, 64];
    public static readonly IReadOnlyList<int> ChannelCounts = [1, 3];
}

/// <summary>Adam settings; the defaults are the DCGAN paper's (lr 2e-4, beta1 0.5).</summary>
public sealed record OptimizerRecipe(
    double GeneratorLearningRate = 2e-4,
    double DiscriminatorLearningRate = 2e-4,
    double Beta1 = 0.5,
    double Beta2 = 0.999);

/// <summary>
/// Everything that determines a training run: with the same plan and data, a CPU run is reproducible.
/// </summary>
public sealed record TrainingPlan(
    ModelRecipe Model,
    OptimizerRecipe Optimizer,
    int Steps,
    int BatchSize = 64,
    string Loss = Losses.AdversarialLosses.NonSaturatingBce,
    long Seed = 0,
    int PreviewCount = 16)
{
    /// <summary>Discriminator (critic) updates per generator update; WGAN-GP uses 5.</summary>
    public int CriticSteps { get; init; } = 1;

    /// <summary>Gradient-penalty weight lambda (WGAN-GP uses 10); 0 is off.</summary>
    public double GradientPenalty { get; init; }

    /// <summary>R1 penalty weight gamma on real data; 0 is off.</summary>
    public double R1 { get; init; }

    /// <summary>Decay of the generator's exponential moving average (e.g. 0.999); 0 is off.</summary>
    public double EmaDecay { get; init; }

    /// <summary>Weight of the L1 term of image-to-image translation (pix2pix uses 100).</summary>
    public double L1 { get; init; } = 100;

    /// <summary>
    /// One generator forward per step, shared by the last discriminator update (detached) and the generator update,
    /// as PyTorch's DCGAN example does. False is the course's loop: a fresh forward for each (one more G forward).
    /// </summary>
    public bool SharedFakes { get; init; } = true;

    /// <summary>DiffAugment policies, comma-separated: color, translation, cutout; empty is off.</summary>
    public string Augment { get; init; } = "";

    [JsonIgnore] public IReadOnlyList<string> AugmentPolicies => Augment.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
