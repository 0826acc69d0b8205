namespace GanService.Gan.Checkpoints;

/// <summary>
/// A write-only stream that keeps what is written in 4 MiB chunks and copies it once into an exact-size array at the
/// end. A MemoryStream doubles its array as it grows, which for a 255 MB bundle allocated about 510 MB on the way;
/// every fresh page is a fault, and on the VMs measured here each cost tens of microseconds. Not seekable, so zip
/// entries get data descriptors instead of patched headers (both are standard; every zip reader reads them).
/// </summary>
internal sealed class ChunkedBuffer : WriteOnlyStream
{
    private const int ChunkSize = 4 << 20;
    private readonly List<byte[]> chunks = [];
    private long length;

    public byte[] ToArray()
    {
        var result = GC.AllocateUninitializedArray<byte>(checked((int)length));
        long copied = 0;
        foreach (var chunk in chunks)
        {
            int count = (int)Math.Min(ChunkSize, length - copied);
            chunk.AsSpan(0, count).CopyTo(result.AsSpan((int)copied));
            copied += count;
        }
        return result;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int offset = (int)(length % ChunkSize);
            if (offset == 0)
                chunks.Add(GC.AllocateUninitializedArray<byte>(ChunkSize));
            int count = Math.Min(buffer.Length, ChunkSize - offset);
            buffer[..count].CopyTo(chunks[^1].AsSpan(offset));
            buffer = buffer[count..];
            length += count;
        }
    }

    public override void Flush() { }

    public override long Length => length;
    public override long Position
    {
        get => length;
        set => throw new NotSupportedException();
    }
}
