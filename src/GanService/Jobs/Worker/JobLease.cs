namespace GanService.Jobs.Worker;

/// <summary>The right of one attempt to write a job's progress and checkpoints.</summary>
public readonly record struct JobLease(Guid JobId, int Attempt);

/// <summary>
/// A newer attempt owns the job (or it was finished elsewhere): this worker must stop without writing.
/// </summary>
public sealed class LeaseLostException(JobLease lease)
    : Exception($"Attempt {lease.Attempt} of job {lease.JobId} no longer owns the job; a newer attempt does.")
{
    public JobLease Lease { get; } = lease;
}
