namespace GanService.Jobs;

public enum JobStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>A row of <c>gan.training_jobs</c>: the recipe, where training stands and how it ended.</summary>
public sealed class TrainingJob
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public string? Owner { get; set; }

    /// <summary>Anyone, even without a key, may sample a public job's generator (for browsers' img tags).</summary>
    public bool Public { get; set; }
    public JobStatus Status { get; set; }

    /// <summary>The normalised <see cref="JobSpec"/> as jsonb.</summary>
    public required string Recipe { get; set; }
    public required string Dataset { get; set; }

    /// <summary>
    /// SHA-256 of the exact data trained on (stored form, or source files of a built-in); null for synthetic.
    /// </summary>
    public string? DatasetSha256 { get; set; }
    public long Seed { get; set; }
    public long Step { get; set; }
    public long TotalSteps { get; set; }
    public required string Device { get; set; }
    public string? Queue { get; set; }
    public string? HangfireJobId { get; set; }
    public string? Worker { get; set; }
    public int Attempts { get; set; }
    public bool CancelRequested { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
    public double? DiscriminatorLoss { get; set; }
    public double? GeneratorLoss { get; set; }
    public double? RealScore { get; set; }
    public double? FakeScore { get; set; }
    public double? ImagesPerSecond { get; set; }

    /// <summary>Progressive growing: the resolution and fade-in alpha of the last reported step.</summary>
    public int? Resolution { get; set; }
    public double? Alpha { get; set; }

    /// <summary>
    /// The checkpoint with the lowest Frechet distance among evaluations at the job's own sample count (only those
    /// compare), kept as each evaluation is stored so that <c>step=best</c> costs no extra query.
    /// </summary>
    public long? BestStep { get; set; }
    public double? BestFd { get; set; }

    /// <summary>Why a job ended before its last step, e.g. early stopping; null when it ran to the end.</summary>
    public string? StopReason { get; set; }

    public bool IsFinished => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>A row of <c>gan.training_metrics</c>: one every <c>Gan:MetricsEvery</c> steps.</summary>
public sealed class TrainingMetric
{
    public Guid JobId { get; set; }
    public long Step { get; set; }
    public long Epoch { get; set; }
    public double DiscriminatorLoss { get; set; }
    public double GeneratorLoss { get; set; }
    public double RealScore { get; set; }
    public double FakeScore { get; set; }
    public double ImagesPerSecond { get; set; }
    public int? Resolution { get; set; }
    public double? Alpha { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
}
