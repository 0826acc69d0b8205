using System.Data;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace GanService.Checkpoints;

/// <summary>
/// A read-only, seekable view of one stored bundle that fetches the ranges read with <c>substring</c>, so a reader
/// of a few entries fetches those entries and not the whole bundle (docs/reliability.md#budgets). Zip's many small
/// reads are served from one block of <see cref="MinimumRead"/> bytes fetched at once; a larger read is one query
/// straight into the caller's buffer. The row is named by its id, so a checkpoint deleted or replaced meanwhile
/// fails the next query with <see cref="CheckpointGoneException"/> instead of mixing two bundles' bytes.
/// </summary>
public sealed class BundleRangeStream(GanDbContext db, long checkpointId, long length, Action<long> fetched) : Stream
{
    /// <summary>
    /// What a small read is rounded up to, so that zip's many small reads of a directory or header cost one query.
    /// </summary>
    public const int MinimumRead = 1 << 20;

    private byte[]? block;
    private long blockStart;
    private int blockLength;
    private long position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => position;
        set => position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int count = (int)Math.Clamp(length - position, 0, buffer.Length);
        int cached = CopyCached(buffer[..count]);
        if (cached == count)
            return count;
        if (count >= MinimumRead)
        {
            // A large read (an entry's weights) fetches what the block lacks in one query, never rounded up.
            Fetch(position, buffer[cached..count]);
            position += count - cached;
            return count;
        }
        if (cached > 0)
            return cached;
        block ??= new byte[MinimumRead];
        blockStart = position;
        blockLength = (int)Math.Min(MinimumRead, length - position);
        Fetch(blockStart, block.AsSpan(0, blockLength));
        return CopyCached(buffer[..count]);
    }

    /// <summary>Copies what the block holds from the position on, advancing past it.</summary>
    private int CopyCached(Span<byte> buffer)
    {
        if (block is null || position < blockStart || position >= blockStart + blockLength)
            return 0;
        int n = Math.Min(buffer.Length, (int)(blockStart + blockLength - position));
        block.AsSpan((int)(position - blockStart), n).CopyTo(buffer);
        position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) =>
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            _ => length + offset,
        };

    /// <summary>One query: <paramref name="target"/>'s length of bytes from <paramref name="offset"/>.</summary>
    private void Fetch(long offset, Span<byte> target)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        using var command = new NpgsqlCommand(
            $"""
            SELECT substring("Bundle" from @from for @count)
            FROM {GanDbContext.Schema}.checkpoints WHERE "Id" = @id
            """,
            connection
        );
        command.CommandTimeout = (int)CheckpointIo.CommandTimeout(target.Length).TotalSeconds;
        command.Parameters.AddWithValue("from", checked((int)(offset + 1))); // substring counts from 1
        command.Parameters.AddWithValue("count", target.Length);
        command.Parameters.AddWithValue("id", checkpointId);
        using var reader = command.ExecuteReader(CommandBehavior.SequentialAccess);
        if (!reader.Read())
            throw new CheckpointGoneException($"Checkpoint {checkpointId} was removed while being read.");
        using var bytes = reader.GetStream(0);
        try
        {
            bytes.ReadExactly(target);
        }
        catch (EndOfStreamException)
        {
            throw new CheckpointGoneException($"Checkpoint {checkpointId} changed while being read.");
        }
        fetched(target.Length);
    }

    public override void Flush() { }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            db.Dispose();
        base.Dispose(disposing);
    }
}
