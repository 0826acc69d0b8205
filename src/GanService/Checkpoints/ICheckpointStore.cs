using GanService.Jobs;
using GanService.Jobs.Worker;

namespace GanService.Checkpoints;

/// <summary>A checkpoint's bytes as read back, with what is needed to verify them.</summary>
public sealed record StoredCheckpoint(long Step, string Sha256, byte[] Bundle);

/// <summary>
/// Where checkpoint bundles live. PostgreSQL for now; a blob store can replace it behind this interface.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>
    /// Stores a bundle whole or not at all: verified against its checksum, then one transaction that also checks the
    /// lease, so a stale attempt's write is refused with <see cref="LeaseLostException"/>.
    /// </summary>
    Task SaveAsync(
        JobLease lease,
        long step,
        byte[] bundle,
        string sha256,
        byte[] previewPng,
        CancellationToken cancellationToken
    );

    /// <summary>The newest checkpoint whose checksum verifies (damaged ones are skipped), or null.</summary>
    Task<StoredCheckpoint?> LatestVerifiedAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>One checkpoint's bytes, or null.</summary>
    Task<StoredCheckpoint?> GetAsync(Guid jobId, long step, CancellationToken cancellationToken);
}
