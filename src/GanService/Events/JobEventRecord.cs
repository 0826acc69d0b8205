namespace GanService.Events;

/// <summary>
/// One stored event of a job, written by database triggers in the transaction of the change it reports, so every
/// writer (worker, API, reconciler) is covered and an event exists exactly when its change committed. It points at
/// the row it reports (the metric, checkpoint or evaluation at <see cref="Step"/>); the answer is built from that
/// row when the event is sent. Progress is not stored: it is sent live and, on a reconnect, as one current snapshot.
/// </summary>
public sealed class JobEventRecord
{
    /// <summary>The stream's cursor: a client's <c>Last-Event-ID</c>.</summary>
    public long Id { get; set; }

    public Guid JobId { get; set; }

    /// <summary>The job's owner, copied so that the all-jobs stream can filter without a join.</summary>
    public string? Owner { get; set; }

    /// <summary>One of <see cref="JobEventTypes"/>, except progress.</summary>
    public required string Type { get; set; }

    public long? Step { get; set; }

    /// <summary>An evaluation's sample count.</summary>
    public int? Samples { get; set; }

    /// <summary>A status event's new status.</summary>
    public string? Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
