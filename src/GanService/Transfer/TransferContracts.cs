namespace GanService.Transfer;

/// <param name="Job">The job whose weights the new job starts from: one of yours, with the same family and
/// architecture (model fields and the dataset's class count); the dataset may differ.</param>
/// <param name="Step">Its checkpoint to start from; the newest when left out.</param>
public sealed record InitFromRequest(Guid? Job, long? Step);

/// <summary>The checkpoint a job's first attempt takes its network weights from, as stored in its recipe.</summary>
public sealed record InitFromPlan(Guid Job, long Step);

/// <param name="Steps">Steps to train past the job's newest checkpoint.</param>
public sealed record ContinueRequest(int? Steps);

/// <summary>
/// The checkpoint a job was to start from is gone (its job deleted, or the checkpoint removed by retention) before
/// the job stored a checkpoint of its own: it cannot start as asked, so it fails with this message.
/// </summary>
public sealed class InitFromUnavailableException(InitFromPlan from)
    : Exception(
        $"The checkpoint at step {from.Step} of job {from.Job}, which this job starts from (initFrom), no longer "
            + "exists; submit the job again from a checkpoint that does."
    );
