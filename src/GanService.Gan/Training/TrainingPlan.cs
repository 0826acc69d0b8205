namespace GanService.Gan.Training;

/// <summary>The network recipe: which family and at which image geometry.</summary>
public sealed record ModelRecipe(string Family = ModelRecipe.Dcgan, int ImageSize = 28, int Channels = 1, int LatentSize = 100)
{
    public const string Dcgan = "dcgan";
    public static readonly IReadOnlyList<string> Families = [Dcgan];
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
    int PreviewCount = 16);
