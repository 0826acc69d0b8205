namespace GanService.Evaluations;

public enum EvaluationStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// <summary>
/// A row of <c>gan.evaluations</c>: one checkpoint scored on a number of samples. The key (job, step, samples) makes
/// evaluating again a no-op, whether a request is repeated or a worker re-runs after a crash.
/// </summary>
public sealed class EvaluationRecord
{
    public Guid JobId { get; set; }
    public long Step { get; set; }
    public int Samples { get; set; }
    public EvaluationStatus Status { get; set; }

    /// <summary>Scheduled (by the job's <c>evaluation.every</c>) or requested (on demand).</summary>
    public bool Requested { get; set; }
    public string? HangfireJobId { get; set; }
    public required string Network { get; set; }
    public int Side { get; set; }
    public double? Fd { get; set; }
    public double? Kid { get; set; }
    public double? KidStd { get; set; }
    public double? Precision { get; set; }
    public double? Recall { get; set; }
    public double? DuplicateShare { get; set; }
    public double? L1 { get; set; }
    public double? Psnr { get; set; }
    public double? Seconds { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

/// <summary>
/// A row of <c>gan.real_statistics</c>: what a dataset contributes to every evaluation against it, computed once and
/// shared by every job and worker that judges against the same images.
/// </summary>
public sealed class RealStatisticsRecord
{
    /// <summary>
    /// Dataset identity, domain, shape and feature network in one string (<see cref="RealStatisticsStore.Key"/>).
    /// </summary>
    public required string Key { get; set; }
    public required string DatasetSha256 { get; set; }
    public required string Domain { get; set; }
    public int ImageSize { get; set; }
    public int Channels { get; set; }
    public required string Network { get; set; }
    public int Side { get; set; }
    public long Count { get; set; }
    public double Seconds { get; set; }

    /// <summary>Mean and covariance in float64 and the kept real features, as the library serialises them.</summary>
    public required byte[] Statistics { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
