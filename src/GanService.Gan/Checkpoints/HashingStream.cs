using System.Security.Cryptography;

namespace GanService.Gan.Checkpoints;

/// <summary>
/// Passes writes on to another stream and hashes them with SHA-256 on the way, so an entry is hashed as it is
/// written instead of being buffered whole first (a CycleGAN checkpoint is about 255 MB; see CheckpointBundle).
/// </summary>
internal sealed class HashingStream(Stream inner) : WriteOnlyStream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>The lower-case hex SHA-256 of everything written so far.</summary>
    public string Hash() => Convert.ToHexStringLower(hash.GetCurrentHash());

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        hash.AppendData(buffer);
        inner.Write(buffer);
    }

    public override void Flush() => inner.Flush();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            hash.Dispose();
        base.Dispose(disposing);
    }
}
