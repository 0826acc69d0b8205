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

    /// <summary>One checkpoint's whole bundle, or null when there is none; the caller verifies it.</summary>
    Task<StoredCheckpoint?> LoadAsync(Guid jobId, long step, CancellationToken cancellationToken);

    /// <summary>The newest checkpoint whose checksum verifies (damaged ones are skipped), or null.</summary>
    Task<StoredCheckpoint?> LatestVerifiedAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>
    /// One checkpoint's bundle as a seekable read-only stream that fetches only the ranges read, or null when there
    /// is none: sampling reads a generator's entries, not the bundle. A read after the checkpoint is removed throws
    /// <see cref="CheckpointGoneException"/>. Nothing is verified here: the reader checks what it reads.
    /// </summary>
    Task<Stream?> OpenBundleAsync(Guid jobId, long step, CancellationToken cancellationToken);
}

/// <summary>A checkpoint removed (or replaced) while its bundle was being read.</summary>
public sealed class CheckpointGoneException(string message) : IOException(message);
