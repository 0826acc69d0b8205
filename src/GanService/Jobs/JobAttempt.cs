namespace GanService.Jobs;

/// <summary>
/// A row of <c>gan.job_attempts</c>: one start of a job on a worker. The attempt number is the job's fencing token:
/// every progress and checkpoint write names it, and a write from an attempt that is no longer the job's latest is
/// refused, so two workers can never both train one job (Hangfire promises at least once, not exactly once).
/// </summary>
public sealed class JobAttempt
{
    public Guid JobId { get; set; }
    public int Number { get; set; }
    public required string Worker { get; set; }
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>The checkpoint step this attempt resumed from; null when it started from scratch.</summary>
    public long? ResumedFromStep { get; set; }

    /// <summary>The newest step this attempt reported (progress is written every few steps, so it may lag).</summary>
    public long LastStep { get; set; }
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>
    /// How it ended (Succeeded, Failed, Cancelled, Requeued, Superseded); null while running or after a crash.
    /// </summary>
    public string? Outcome { get; set; }
}
