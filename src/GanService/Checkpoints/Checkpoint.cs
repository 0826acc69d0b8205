namespace GanService.Checkpoints;

/// <summary>A row of <c>gan.checkpoints</c>: a whole bundle, its checksum and its preview grid.</summary>
public sealed class Checkpoint
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public long Step { get; set; }

    /// <summary>The job attempt that wrote it, so a stale worker's write can be told apart.</summary>
    public int Attempt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public long SizeBytes { get; set; }
    public required string Sha256 { get; set; }
    public required byte[] Bundle { get; set; }
    public required byte[] PreviewPng { get; set; }

    /// <summary>Pinned by the job's owner: retention (<c>checkpoints.keep</c>) never removes it.</summary>
    public bool Pinned { get; set; }
}
