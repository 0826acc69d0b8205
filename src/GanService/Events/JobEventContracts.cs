using GanService.Checkpoints;
using GanService.Evaluations;
using GanService.Jobs;

namespace GanService.Events;

/// <summary>The event types of a job's stream, as sent in each event's <c>event:</c> field.</summary>
public static class JobEventTypes
{
    public const string Status = "status",
        Progress = "progress",
        Metric = "metric",
        Checkpoint = "checkpoint",
        Evaluation = "evaluation",
        Deleted = "deleted";
}

/// <summary>
/// One event of a job's stream (the <c>data:</c> of a server-sent event, whose <c>event:</c> is <see cref="Type"/>).
/// <c>status</c> carries <c>Status</c> and the job as <c>GET /api/jobs/{id}</c> answers it; <c>progress</c> the job
/// (step, percent, ETA, latest losses, D(x), D(G(z)), warnings); <c>metric</c> a new metric row; <c>checkpoint</c>
/// a new checkpoint with its preview URL; <c>evaluation</c> a finished evaluation; <c>deleted</c> only the job's
/// id, as the job is deleted. <see cref="Id"/> is absent on progress and deleted events, which are not stored: a
/// reconnecting client gets the current progress instead, or a 404 for a deleted job.
/// </summary>
public sealed record JobEvent(long? Id, Guid JobId, string Type, DateTimeOffset At)
{
    public JobStatus? Status { get; init; }
    public JobResponse? Job { get; init; }
    public MetricResponse? Metric { get; init; }
    public CheckpointResponse? Checkpoint { get; init; }
    public EvaluationResponse? Evaluation { get; init; }

    /// <summary>Whether this event ends its job's stream: a status the job never leaves, or its deletion.</summary>
    public bool Ends =>
        Type == JobEventTypes.Deleted || Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}
