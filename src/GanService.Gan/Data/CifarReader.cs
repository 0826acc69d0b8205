using GanService.Gan.Data.Import;

namespace GanService.Gan.Data;

/// <summary>
/// Reads CIFAR binary batches: per record one label byte (CIFAR-10) or coarse and fine label bytes (CIFAR-100),
/// then 1024 red, 1024 green and 1024 blue bytes of a 32x32 image, which is already the [C, H, W] layout.
/// </summary>
public static class CifarReader
{
    public const int Size = 32,
        Channels = 3,
        PixelBytes = Size * Size * Channels;

    /// <summary>Records in all batches, told by their lengths before anything is read.</summary>
    public static long Records(IReadOnlyList<Stream> batches, int labelBytes = 1)
    {
        int record = labelBytes + PixelBytes;
        long records = 0;
        foreach (var stream in batches)
        {
            long length = stream.Length - stream.Position;
            if (length % record != 0)
                throw new InvalidDataException(
                    $"A CIFAR batch ends inside a record ({length % record} of {record} bytes)."
                );
            records += length / record;
        }
        return records;
    }

    /// <summary>
    /// The first <paramref name="take"/> records (all by default), into buffers sized once from the batches'
    /// lengths and checked against the limits before they are allocated.
    /// </summary>
    public static (byte[] Pixels, byte[] Labels) Read(
        IReadOnlyList<Stream> batches,
        int labelBytes = 1,
        ImportLimits? limits = null,
        long take = long.MaxValue
    )
    {
        limits ??= new ImportLimits();
        int record = labelBytes + PixelBytes;
        long count = Math.Min(Records(batches, labelBytes), take);
        if (count > limits.MaxItems)
            throw new DatasetImportException(
                $"The CIFAR files hold {count} records; the limit is {limits.MaxItems}.",
                tooLarge: true
            );
        if (count * record > limits.MaxDecompressedBytes)
            throw new DatasetImportException(
                $"The CIFAR files hold {count * record} bytes; the limit is {limits.MaxDecompressedBytes}.",
                tooLarge: true
            );
        var pixels = new byte[count * PixelBytes];
        var labels = new byte[count];
        var buffer = new byte[record];
        long at = 0;
        foreach (var stream in batches)
        {
            using var input = new BoundedStream(
                stream,
                "A CIFAR batch",
                "file",
                count * record,
                limits.MaxCompressionRatio,
                compressed: null
            );
            while (at < count && input.ReadAtLeast(buffer, record, throwOnEndOfStream: false) is var read && read > 0)
            {
                if (read < record)
                    throw new InvalidDataException($"A CIFAR batch ends inside a record ({read} of {record} bytes).");
                labels[at] = buffer[labelBytes - 1]; // CIFAR-100: the fine label
                buffer.AsSpan(labelBytes).CopyTo(pixels.AsSpan((int)(at * PixelBytes)));
                at++;
            }
        }
        return (pixels, labels);
    }
}
