using GanService.Gan.Checkpoints;
using GanService.Gan.Runtime;
using GanService.Gan.Training;

namespace GanService.Jobs.Worker;

/// <summary>How a failed attempt describes its failure on the job's row, which its owner reads.</summary>
internal static class JobFailures
{
    /// <summary>What the job's row says about a failure: the message of the failures a user can act on.</summary>
    public static string Message(Exception e, Guid jobId) =>
        e
            is TrainingDivergedException
                or DeviceUnavailableException
                or CorruptCheckpointException
                or Quotas.StorageQuotaExceededException
                or Datasets.DatasetUnavailableException
                or Transfer.InitFromUnavailableException
            ? e.Message
            // Anything else is the service's own fault; its text (a native or I/O message, a path) stays in the log,
            // which the job id finds.
            : $"The job stopped on an internal error ({e.GetType().Name}); the worker's log has the details under "
                + $"job {jobId}.";
}
