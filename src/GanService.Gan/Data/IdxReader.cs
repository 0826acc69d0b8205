using System.Buffers.Binary;
using GanService.Gan.Data.Import;

namespace GanService.Gan.Data;

/// <summary>Reads the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.</summary>
public static class IdxReader
{
    /// <summary>An images file (magic 0x00000803): returns the pixels row-major and the count and size.</summary>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(
        Stream stream,
        ImportLimits? limits = null
    )
    {
        using var file = IdxFile.Open(stream, rank: 3, limits ?? new ImportLimits(), "images");
        var pixels = new byte[file.Count * file.ItemBytes];
        file.Read(pixels);
        return (pixels, file.Count, file.Dims[1], file.Dims[2]);
    }

    /// <summary>A labels file (magic 0x00000801).</summary>
    public static byte[] ReadLabels(Stream stream, ImportLimits? limits = null)
    {
        using var file = IdxFile.Open(stream, rank: 1, limits ?? new ImportLimits(), "labels");
        var labels = new byte[file.Count];
        file.Read(labels);
        return labels;
    }
}

/// <summary>
/// An IDX file opened for bounded reading: its header is read and checked against the limits and against what
/// the file can hold, before any payload is read or any buffer for it allocated.
/// </summary>
public sealed class IdxFile : IDisposable
{
    private const byte UnsignedByte = 0x08;
    private readonly BoundedStream input;
    private long payloadRead;

    private IdxFile(BoundedStream input, int[] dims)
    {
        this.input = input;
        Dims = dims;
        ItemBytes = dims.Skip(1).Aggregate(1L, (product, d) => product * d);
    }

    public IReadOnlyList<int> Dims { get; }
    public int Count => Dims[0];

    /// <summary>Bytes of one item: rows x columns for images, 1 for labels.</summary>
    public long ItemBytes { get; }

    /// <summary>
    /// Reads the header (rank 3: images, rank 1: labels); an InvalidDataException for a foreign or damaged one.
    /// </summary>
    public static IdxFile Open(Stream stream, int rank, ImportLimits limits, string field)
    {
        var input = BoundedStream.Open(stream, $"The IDX {field} file", field, limits.MaxDecompressedBytes, limits);
        try
        {
            var dims = ReadHeader(input, rank);
            var file = new IdxFile(input, dims);
            input.CheckClaim(file.Count * file.ItemBytes);
            return file;
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    /// <summary>Payload bytes not read yet.</summary>
    public long Remaining => Count * ItemBytes - payloadRead;

    /// <summary>Reads the next <c>destination.Length</c> bytes of the payload (whole items, in order).</summary>
    public void Read(Span<byte> destination)
    {
        try
        {
            input.ReadExactly(destination);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("The IDX file is shorter than its header says.");
        }
        payloadRead += destination.Length;
    }

    public void Dispose() => input.Dispose();

    private static int[] ReadHeader(Stream input, int rank)
    {
        Span<byte> magic = stackalloc byte[4];
        ReadHeaderBytes(input, magic);
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != UnsignedByte || magic[3] != rank)
            throw new InvalidDataException($"Not an IDX file of unsigned bytes with {rank} dimension(s).");
        var dims = new int[rank];
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < rank; i++)
        {
            ReadHeaderBytes(input, word);
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dims[i] <= 0)
                throw new InvalidDataException($"IDX dimension {i} is {dims[i]}.");
        }
        return dims;
    }

    private static void ReadHeaderBytes(Stream input, Span<byte> bytes)
    {
        try
        {
            input.ReadExactly(bytes);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("The IDX file is shorter than its header.");
        }
    }
}
