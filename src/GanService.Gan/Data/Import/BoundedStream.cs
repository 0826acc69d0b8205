using System.IO.Compression;

namespace GanService.Gan.Data.Import;

/// <summary>
/// Reads an upload's content within limits counted on the bytes actually read: at most <c>maxBytes</c>, and, for
/// compressed input, at most <see cref="ImportLimits.MaxCompressionRatio"/> times the compressed bytes consumed so
/// far (once past <see cref="RatioFloor"/>, so small files of flat colour pass). Archive entries, gzip'd tar, IDX
/// and CIFAR files all come through here (docs/reliability.md, "Budgets").
/// </summary>
internal sealed class BoundedStream : ForwardStream
{
    /// <summary>Below this many decompressed bytes the ratio is not checked: tiny flat images compress well.</summary>
    public const long RatioFloor = 4096;

    private readonly Stream inner;
    private readonly Func<long>? compressed;
    private readonly long maxBytes;
    private readonly double maxRatio;
    private readonly string name,
        field;

    /// <summary>
    /// Over <paramref name="inner"/>; <paramref name="compressed"/> counts the compressed bytes consumed so far
    /// (null: not compressed).
    /// </summary>
    public BoundedStream(
        Stream inner,
        string name,
        string field,
        long maxBytes,
        double maxRatio,
        Func<long>? compressed
    )
    {
        this.inner = inner;
        this.name = name;
        this.field = field;
        this.maxBytes = maxBytes;
        this.maxRatio = maxRatio;
        this.compressed = compressed;
    }

    /// <summary>The bytes handed out so far.</summary>
    public long BytesRead => Consumed;

    /// <summary>
    /// Opens a file that may be gzip-compressed (told by its magic bytes), bounded as above. The stream must be
    /// seekable, so that its compressed length is known and header claims can be checked against it first.
    /// </summary>
    public static BoundedStream Open(Stream file, string name, string field, long maxBytes, ImportLimits limits)
    {
        if (!file.CanSeek)
            throw new InvalidDataException($"{name} must be seekable.");
        Span<byte> head = stackalloc byte[2];
        long start = file.Position;
        int read = file.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        file.Position = start;
        if (read < 2 || head[0] != 0x1f || head[1] != 0x8b)
            return new BoundedStream(file, name, field, maxBytes, limits.MaxCompressionRatio, null)
            {
                StoredBytes = file.Length - start,
            };
        var counting = new CountingStream(file);
        var gzip = new GZipStream(counting, CompressionMode.Decompress);
        return new BoundedStream(gzip, name, field, maxBytes, limits.MaxCompressionRatio, () => counting.Count)
        {
            StoredBytes = file.Length - start,
            Compressed = true,
        };
    }

    /// <summary>The length of the input as sent (compressed or not).</summary>
    public long StoredBytes { get; private init; }

    public bool Compressed { get; private init; }

    /// <summary>
    /// Refuses, before anything is read or allocated, content whose header claims more bytes than the input can hold
    /// within the ratio: a truncated raw file, or a small gzip that would inflate past the limit.
    /// </summary>
    public void CheckClaim(long claimed)
    {
        if (claimed > maxBytes)
            throw new DatasetImportException(
                $"{name} holds {claimed} bytes; the limit is {maxBytes}.",
                field,
                tooLarge: true
            );
        if (!Compressed && claimed > StoredBytes - BytesRead)
            throw new InvalidDataException($"{name} is shorter than its header says.");
        if (Compressed && claimed > RatioFloor && claimed > StoredBytes * maxRatio)
            throw RatioExceeded(claimed / (double)StoredBytes);
    }

    public override int Read(Span<byte> buffer)
    {
        long room = maxBytes - BytesRead; // one byte past the limit is asked for, to tell "at" from "past" it
        int n = inner.Read(room < buffer.Length ? buffer[..(int)(room + 1)] : buffer);
        Consumed += n;
        if (BytesRead > maxBytes)
            throw new DatasetImportException(
                $"{name} decompresses to more than {maxBytes} bytes.",
                field,
                tooLarge: true
            );
        if (compressed is not null && BytesRead > RatioFloor && BytesRead > compressed() * maxRatio)
            throw RatioExceeded(BytesRead / (double)Math.Max(1, compressed()));
        return n;
    }

    private DatasetImportException RatioExceeded(double ratio) =>
        new($"{name} expands {ratio:F0}-fold; the limit is {maxRatio:F0}.", field, tooLarge: true);

    protected override void Dispose(bool disposing)
    {
        // The gzip layer this stream made; never the caller's file.
        if (disposing && compressed is not null)
            inner.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Counts the compressed bytes a decompressor has taken from the file.</summary>
    private sealed class CountingStream(Stream inner) : ForwardStream
    {
        public long Count => Consumed;

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            Consumed += n;
            return n;
        }
    }
}

/// <summary>A stream read once from start to end, counting what it hands out: both wrappers above.</summary>
internal abstract class ForwardStream : Stream
{
    /// <summary>Bytes handed out so far.</summary>
    protected long Consumed { get; set; }

    public abstract override int Read(Span<byte> buffer);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => Consumed;
        set => throw new NotSupportedException();
    }

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
