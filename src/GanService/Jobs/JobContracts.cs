using GanService.Gan.Training;

namespace GanService.Jobs;

/// <summary>The body of <c>POST /api/jobs</c>. Every field but <c>dataset</c> and <c>model.family</c> has a default.</summary>
public sealed record CreateJobRequest(
    string? Name,
    string? Dataset,
    ModelRequest? Model,
    TrainingRequest? Training,
    int? CheckpointEvery,
    long? Seed,
    string? Device);

/// <param name="Family">The model family: <c>dcgan</c>.</param>
/// <param name="ImageSize">28, 32 or 64 pixels (default 28).</param>
/// <param name="Channels">1 (grey) or 3 (RGB); default 1.</param>
/// <param name="LatentSize">Length of the Gaussian latent z (default 100).</param>
public sealed record ModelRequest(string? Family, int? ImageSize, int? Channels, int? LatentSize);

/// <param name="Steps">Training steps, each one D update and one G update (default 1000).</param>
/// <param name="BatchSize">Images per batch (default 64).</param>
/// <param name="LearningRate">Adam learning rate for both networks (default 2e-4).</param>
/// <param name="GeneratorLearningRate">Overrides <c>learningRate</c> for G.</param>
/// <param name="DiscriminatorLearningRate">Overrides <c>learningRate</c> for D.</param>
/// <param name="Beta1">Adam beta1 (default 0.5).</param>
/// <param name="Loss">The adversarial loss: <c>bce</c> (non-saturating).</param>
public sealed record TrainingRequest(
    int? Steps, int? BatchSize, double? LearningRate, double? GeneratorLearningRate,
    double? DiscriminatorLearningRate, double? Beta1, string? Loss);

/// <summary>A job's recipe with every default filled in, as stored in <c>training_jobs.recipe</c>.</summary>
public sealed record JobSpec(string Name, string Dataset, ModelRecipe Model, OptimizerRecipe Optimizer, string Loss,
    int Steps, int BatchSize, int CheckpointEvery, long Seed, string Device)
{
    public TrainingPlan ToPlan() => new(Model, Optimizer, Steps, BatchSize, Loss, Seed);
}

public sealed record JobResponse(
    Guid Id,
    string Name,
    JobStatus Status,
    string Dataset,
    string? DatasetSha256,
    ModelRecipe Model,
    JobTrainingResponse Training,
    int CheckpointEvery,
    long Seed,
    string Device,
    long Step,
    long TotalSteps,
    double Percent,
    double? EtaSeconds,
    LatestMetrics? Latest,
    string? Error,
    int Attempts,
    string? Worker,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    JobLinks Links);

public sealed record JobTrainingResponse(int Steps, int BatchSize, double GeneratorLearningRate,
    double DiscriminatorLearningRate, double Beta1, double Beta2, string Loss);

public sealed record LatestMetrics(double DiscriminatorLoss, double GeneratorLoss, double RealScore, double FakeScore, double ImagesPerSecond);

public sealed record JobLinks(string Self, string Metrics, string Checkpoints, string Samples, string Cancel);

public sealed record MetricResponse(long Step, long Epoch, double DiscriminatorLoss, double GeneratorLoss,
    double RealScore, double FakeScore, double ImagesPerSecond, DateTimeOffset RecordedAt);

public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);
