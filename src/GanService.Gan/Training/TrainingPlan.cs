using System.Text.Json.Serialization;
using GanService.Gan.Families;

namespace GanService.Gan.Training;

/// <summary>
/// The network recipe: which family, at which image geometry; <paramref name="Classes"/> for class-conditional
/// families; <paramref name="Normalization"/> of the discriminator: batch norm, none (a WGAN-GP critic) or spectral.
/// </summary>
public sealed record ModelRecipe(
    string Family = ModelRecipe.Dcgan,
    int ImageSize = 28,
    int Channels = 1,
    int LatentSize = 100,
    int Classes = 0,
    string Normalization = ModelRecipe.BatchNorm
)
{
    public const string Dcgan = "dcgan",
        ConditionalDcgan = "conditional-dcgan",
        Pix2Pix = "pix2pix",
        CycleGan = "cyclegan";
    public const string BigGan = "biggan",
        ProGan = "progan",
        StyleGan = "stylegan";
    public const string BatchNorm = "batch",
        NoNorm = "none",
        SpectralNorm = "spectral";
    public static readonly IReadOnlyList<string> Normalizations = [BatchNorm, NoNorm, SpectralNorm];

    /// <summary>Pix2pix and CycleGAN: the family translates images (<see cref="ModelFamily.Translates"/>).</summary>
    [JsonIgnore]
    public bool Translation => ModelFamily.TryFind(Family)?.Translates ?? false;

    /// <summary>The family's networks take class labels (<see cref="ModelFamily.Conditional"/>).</summary>
    [JsonIgnore]
    public bool Conditional => ModelFamily.TryFind(Family)?.Conditional ?? false;

    /// <summary>
    /// Channels at the 16x16 stage of the modern families (wider below, narrower above); 16 suits a CPU.
    /// </summary>
    public int Width { get; init; } = 16;

    /// <summary>BigGAN: the resolution whose blocks are followed by self-attention (0: none).</summary>
    public int AttentionResolution { get; init; } = 16;

    /// <summary>StyleGAN: fully connected layers of the mapping network from z to w.</summary>
    public int MappingLayers { get; init; } = 4;

    /// <summary>StyleGAN: probability that a training batch mixes two latents' styles at a random layer.</summary>
    public double StyleMixing { get; init; } = 0.9;

    /// <summary>
    /// The fields, by their request path, in which another recipe's networks differ from this one's: weights move
    /// between two recipes only when there are none. The class count comes from the dataset.
    /// </summary>
    public IEnumerable<(string Field, object Mine, object Theirs)> ArchitectureDifferences(ModelRecipe other)
    {
        (string, object, object)[] fields =
        [
            ("model.family", Family, other.Family),
            ("model.imageSize", ImageSize, other.ImageSize),
            ("model.channels", Channels, other.Channels),
            ("model.latentSize", LatentSize, other.LatentSize),
            ("dataset", Classes, other.Classes),
            ("model.normalization", Normalization, other.Normalization),
            (FamilyFields.WidthField, Width, other.Width),
            (FamilyFields.AttentionField, AttentionResolution, other.AttentionResolution),
            (FamilyFields.MappingField, MappingLayers, other.MappingLayers),
        ];
        return fields.Where(f => !Equals(f.Item2, f.Item3));
    }
}

/// <summary>Adam settings; the defaults are the DCGAN paper's (lr 2e-4, beta1 0.5).</summary>
public sealed record OptimizerRecipe(
    double GeneratorLearningRate = 2e-4,
    double DiscriminatorLearningRate = 2e-4,
    double Beta1 = 0.5,
    double Beta2 = 0.999
);

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
    int PreviewCount = 16
)
{
    /// <summary>Discriminator (critic) updates per generator update; WGAN-GP uses 5.</summary>
    public int CriticSteps { get; init; } = 1;

    /// <summary>Gradient-penalty weight lambda (WGAN-GP uses 10); 0 is off.</summary>
    public double GradientPenalty { get; init; }

    /// <summary>R1 penalty weight gamma on real data; 0 is off.</summary>
    public double R1 { get; init; }

    /// <summary>
    /// Lazy regularisation (StyleGAN2): R1 on every this-many-th D update only, weighted by the interval, so its
    /// average pull is the same at a fraction of the cost (a second backward through D); 1 is every update.
    /// </summary>
    public int R1Every { get; init; } = 1;

    /// <summary>Decay of the generator's exponential moving average (e.g. 0.999); 0 is off.</summary>
    public double EmaDecay { get; init; }

    /// <summary>Weight of the L1 term of image-to-image translation (pix2pix uses 100).</summary>
    public double L1 { get; init; } = 100;

    /// <summary>
    /// One generator forward per step, shared by the last discriminator update (detached) and the generator update,
    /// as PyTorch's DCGAN example does. False is the course's loop: a fresh forward for each (one more G forward).
    /// </summary>
    public bool SharedFakes { get; init; } = true;

    /// <summary>
    /// BigGAN's orthogonal regularisation of the generator's weights (beta, 1e-4 in the paper); 0 is off.
    /// </summary>
    public double OrthogonalRegularization { get; init; }

    /// <summary>
    /// Progressive growing: real images per phase (a fade-in or a stable period); 0 shares the run evenly.
    /// </summary>
    public long ImagesPerPhase { get; init; }

    /// <summary>
    /// Translation families: the tail of the inputs (<see cref="Data.HeldOutInputs"/>) is kept out of training and
    /// evaluations translate it. False in plans from before, whose runs trained on every input.
    /// </summary>
    public bool HoldOut { get; init; }

    /// <summary>DiffAugment policies, comma-separated: color, translation, cutout; empty is off.</summary>
    public string Augment { get; init; } = "";

    /// <summary>
    /// The plan trained on to <paramref name="steps"/>. A progressive run's phases were shared out from its first
    /// length, so their size is fixed first: the growth already trained stays where it was.
    /// </summary>
    public TrainingPlan Continued(int steps) =>
        this with
        {
            Steps = steps,
            ImagesPerPhase = ModelFamily.Of(Model).GrowsProgressively
                ? ProgressiveSchedule.ImagesPerPhaseOf(this)
                : ImagesPerPhase,
        };

    [JsonIgnore]
    public IReadOnlyList<string> AugmentPolicies =>
        Augment.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
