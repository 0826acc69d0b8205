using System.Text.Json.Serialization;
using GanService.Gan.Families;
using GanService.Gan.Training;

namespace GanService.Jobs;

/// <summary>
/// The body of <c>POST /api/jobs</c>. Every field but <c>dataset</c> and <c>model.family</c> has a default.
/// </summary>
public sealed record CreateJobRequest(
    string? Name,
    string? Dataset,
    ModelRequest? Model,
    TrainingRequest? Training,
    int? CheckpointEvery,
    long? Seed,
    string? Device,
    bool? Public = null,
    Evaluations.EvaluationRequest? Evaluation = null,
    Transfer.InitFromRequest? InitFrom = null,
    Retention.CheckpointsRequest? Checkpoints = null
);

/// <param name="Public">True: anyone, even a browser without a key, may fetch this generator's samples.</param>
public sealed record VisibilityRequest(bool? Public);

/// <param name="Family">The model family: <c>dcgan</c>, <c>conditional-dcgan</c> and <c>biggan</c> (need a labelled
/// dataset),
/// <c>pix2pix</c> (a paired dataset), <c>cyclegan</c> (two domains), <c>progan</c>, <c>stylegan</c>.</param>
/// <param name="ImageSize">28, 32 or 64 pixels (default 28); pix2pix and cyclegan: 64, 128 or 256 (default 64); biggan,
/// progan and stylegan: 32, 64, 128 or 256 (default 32).</param>
/// <param name="Channels">1 (grey) or 3 (RGB); default 1, 3 for pix2pix and cyclegan.</param>
/// <param name="LatentSize">Length of the Gaussian latent z (default 100; 64 for biggan, progan and stylegan).</param>
/// <param name="Normalization">The DCGAN discriminator's: <c>batch</c> (default), <c>none</c> (default for wgan-gp),
/// <c>spectral</c>. The newer families fix their own.</param>
/// <param name="Width">biggan, progan, stylegan: channels at the 16x16 stage, 8 to 512 (default 16, CPU-sized; wider
/// below 16x16, narrower above).</param>
/// <param name="AttentionResolution">biggan: resolution followed by self-attention, 0 (none) or 8 up to the image size
/// (default 16).</param>
/// <param name="MappingLayers">stylegan: dense layers of the mapping network from z to w, 1 to 8 (default 4).</param>
/// <param name="StyleMixing">stylegan: probability a training batch mixes two latents' styles, 0 to 1 (default
/// 0.9).</param>
public sealed record ModelRequest(
    string? Family,
    int? ImageSize,
    int? Channels,
    int? LatentSize,
    string? Normalization = null,
    int? Width = null,
    int? AttentionResolution = null,
    int? MappingLayers = null,
    double? StyleMixing = null
);

/// <param name="Steps">Training steps, each one D update and one G update (default 1000).</param>
/// <param name="BatchSize">Images per batch (default 64).</param>
/// <param name="LearningRate">Adam learning rate for both networks (default 2e-4).</param>
/// <param name="GeneratorLearningRate">Overrides <c>learningRate</c> for G.</param>
/// <param name="DiscriminatorLearningRate">Overrides <c>learningRate</c> for D.</param>
/// <param name="Beta1">Adam beta1 (default 0.5).</param>
/// <param name="Loss">The adversarial loss: <c>bce</c> (non-saturating; default), <c>bce-minimax</c>, <c>lsgan</c>,
/// <c>wgan-gp</c>, <c>hinge</c>.</param>
/// <param name="CriticSteps">Discriminator updates per generator update, 1 to 10 (default 1; 5 for wgan-gp).</param>
/// <param name="GradientPenalty">Gradient-penalty weight lambda, 0 to 1000 (default 0; 10 for wgan-gp).</param>
/// <param name="R1">R1 penalty weight gamma on real data, 0 to 1000 (default 0, off).</param>
/// <param name="Ema">Decay of the generator's moving average used for sampling, 0 (off, default) or up to
/// 0.9999.</param>
/// <param name="Augment">DiffAugment policies, comma-separated: color, translation, cutout (default none).</param>
/// <param name="L1">Weight of the L1 term for pix2pix, 0 to 1000 (default 100).</param>
/// <param name="Beta2">Adam beta2 (default 0.999; 0.99 for progan and stylegan).</param>
/// <param name="OrthogonalRegularization">biggan: orthogonal regularisation beta of G's weights, 0 to 1 (default
/// 1e-4).</param>
/// <param name="ImagesPerPhase">progan: real images per fade-in or stable phase (default 0: the run shared evenly
/// between phases).</param>
/// <param name="R1Every">Lazy R1: the penalty on every this-many-th D update, weighted by it, 1 to 64 (default 1; 16
/// for stylegan).</param>
/// <param name="EarlyStopping">End the job once its quality stops improving (needs scheduled evaluation).</param>
public sealed record TrainingRequest(
    int? Steps,
    int? BatchSize,
    double? LearningRate,
    double? GeneratorLearningRate,
    double? DiscriminatorLearningRate,
    double? Beta1,
    string? Loss,
    int? CriticSteps = null,
    double? GradientPenalty = null,
    double? R1 = null,
    double? Ema = null,
    string? Augment = null,
    double? L1 = null,
    double? Beta2 = null,
    double? OrthogonalRegularization = null,
    long? ImagesPerPhase = null,
    int? R1Every = null,
    Evaluations.EarlyStoppingRequest? EarlyStopping = null
);

/// <summary>
/// A job's recipe with every default filled in, as stored in <c>training_jobs.recipe</c>: the library's plan whole,
/// with what only the service needs beside it. Rows from before it held the plan are read by <see cref="JobMapping"/>;
/// rows from before evaluation existed have none scheduled.
/// </summary>
public sealed record JobSpec(
    string Name,
    string Dataset,
    TrainingPlan Plan,
    int CheckpointEvery,
    string Device,
    Evaluations.EvaluationPlan? Evaluation = null,
    Transfer.InitFromPlan? InitFrom = null,
    long? ContinuedFrom = null,
    Retention.RetentionPlan? Checkpoints = null
);

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
    string? Owner,
    bool Public,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    JobLinks Links
)
{
    /// <summary>
    /// Why the job may not move as expected, for example a <c>cuda</c> job that no GPU worker takes; absent when none.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Warning { get; init; }

    /// <summary>When checkpoints are scored; absent for jobs from before evaluation existed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Evaluations.EvaluationPlan? Evaluation { get; init; }

    /// <summary>The best checkpoint so far by <c>fd_resnet18</c>; absent until an evaluation is stored.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BestCheckpoint? Best { get; init; }

    /// <summary>The checkpoint whose network weights the job started from; absent for a job trained afresh.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Transfer.InitFromPlan? InitFrom { get; init; }

    /// <summary>The step at which the job was last continued; absent for a job never continued.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ContinuedFrom { get; init; }

    /// <summary>Why the job ended before its last step (early stopping); absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? StopReason { get; init; }

    /// <summary>Which checkpoints the job keeps (newest N, the best, pinned ones); absent when it keeps all.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Retention.RetentionPlan? Checkpoints { get; init; }

    /// <summary>
    /// Bytes the job's checkpoint bundles and previews take in the database; on GET /api/jobs and GET
    /// /api/jobs/{id}, absent from other answers.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? StoredBytes { get; init; }

    /// <summary>Alarms raised by the job's evaluations (mode collapse, no improvement, a failed evaluation).</summary>
    public IReadOnlyList<Evaluations.JobWarning> Warnings { get; init; } = [];
}

/// <summary>
/// The checkpoint with the lowest value of <c>Metric</c> among the job's evaluations at its sample count.
/// </summary>
public sealed record BestCheckpoint(long Step, string Metric, double Value);

/// <summary>The training half of a job's plan, under the names its request uses.</summary>
public sealed record JobTrainingResponse(
    int Steps,
    int BatchSize,
    double GeneratorLearningRate,
    double DiscriminatorLearningRate,
    double Beta1,
    double Beta2,
    string Loss,
    int CriticSteps,
    double GradientPenalty,
    double R1,
    double Ema,
    string Augment,
    double L1
)
{
    /// <summary>biggan only (absent for other families).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? OrthogonalRegularization { get; init; }

    /// <summary>progan only (absent for other families).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ImagesPerPhase { get; init; }

    public int R1Every { get; init; } = 1;

    public static JobTrainingResponse From(TrainingPlan plan)
    {
        bool Reads(string path) => FamilyFieldVisibility.Reads(plan.Model.Family, path);
        return new(
            plan.Steps,
            plan.BatchSize,
            plan.Optimizer.GeneratorLearningRate,
            plan.Optimizer.DiscriminatorLearningRate,
            plan.Optimizer.Beta1,
            plan.Optimizer.Beta2,
            plan.Loss,
            plan.CriticSteps,
            plan.GradientPenalty,
            plan.R1,
            plan.EmaDecay,
            plan.Augment,
            plan.L1
        )
        {
            OrthogonalRegularization = Reads(FamilyFields.OrthogonalField) ? plan.OrthogonalRegularization : null,
            ImagesPerPhase = Reads(FamilyFields.PhaseField) ? plan.ImagesPerPhase : null,
            R1Every = plan.R1Every,
        };
    }
}

/// <summary>
/// The last reported step; for progan also the resolution it trained at and the fade-in alpha of its newest block.
/// </summary>
public sealed record LatestMetrics(
    double DiscriminatorLoss,
    double GeneratorLoss,
    double RealScore,
    double FakeScore,
    double ImagesPerSecond
)
{
    public int? Resolution { get; init; }
    public double? Alpha { get; init; }
}

public sealed record JobLinks(string Self, string Metrics, string Checkpoints, string Samples, string Cancel)
{
    public string? Evaluations { get; init; }
}

public sealed record MetricResponse(
    long Step,
    long Epoch,
    double DiscriminatorLoss,
    double GeneratorLoss,
    double RealScore,
    double FakeScore,
    double ImagesPerSecond,
    DateTimeOffset RecordedAt
)
{
    public int? Resolution { get; init; }
    public double? Alpha { get; init; }
}

/// <summary>
/// One start of a job on a worker. <c>StepsRepeated</c>: steps this attempt trained again because the previous one
/// stopped past its last checkpoint (from the previous attempt's last reported step: progress is written at most every
/// <c>Gan:ProgressWriteInterval</c> and always before a checkpoint, so after a crash between checkpoints it may be low
/// by the steps of that interval plus <c>Gan:MetricsEvery</c>). <c>Outcome</c> is Lost for an attempt whose worker died
/// or was superseded.
/// </summary>
public sealed record AttemptResponse(
    int Number,
    string Worker,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string? Outcome,
    long? ResumedFromStep,
    long LastStep,
    long StepsRepeated
);

public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);
