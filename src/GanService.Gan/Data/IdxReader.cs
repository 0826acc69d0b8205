using System.Buffers.Binary;
using System.IO.Compression;

namespace GanService.Gan.Data;

/// <summary>Reads the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.</summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;

    /// <summary>An images file (magic 0x00000803): returns the pixels row-major and the count and size.</summary>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(Stream stream)
    {
        using var input = Decompressed(stream);
        var dims = ReadHeader(input, expectedRank: 3);
        var pixels = ReadExactly(input, (long)dims[0] * dims[1] * dims[2]);
        return (pixels, dims[0], dims[1], dims[2]);
    }

    /// <summary>A labels file (magic 0x00000801).</summary>
    public static byte[] ReadLabels(Stream stream)
    {
        using var input = Decompressed(stream);
        var dims = ReadHeader(input, expectedRank: 1);
        return ReadExactly(input, dims[0]);
    }

    private static int[] ReadHeader(Stream input, int expectedRank)
    {
        Span<byte> magic = stackalloc byte[4];
        input.ReadExactly(magic);
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != UnsignedByte || magic[3] != expectedRank)
            throw new InvalidDataException($"Not an IDX file of unsigned bytes with {expectedRank} dimension(s).");
        var dims = new int[expectedRank];
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < expectedRank; i++)
        {
            input.ReadExactly(word);
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dims[i] <= 0) throw new InvalidDataException($"IDX dimension {i} is {dims[i]}.");
        }
        return dims;
    }

    private static byte[] ReadExactly(Stream input, long length)
    {
        if (length > Array.MaxLength) throw new InvalidDataException($"IDX payload of {length} bytes is too large.");
        var bytes = new byte[length];
        try { input.ReadExactly(bytes); }
        catch (EndOfStreamException) { throw new InvalidDataException("The IDX file is shorter than its header says."); }
        return bytes;
    }

    private static Stream Decompressed(Stream stream)
    {
        var buffered = new BufferedStream(stream, 1 << 16);
        Span<byte> head = stackalloc byte[2];
        int read = buffered.Read(head);
        if (buffered.CanSeek) buffered.Seek(-read, SeekOrigin.Current);
        else throw new InvalidDataException("IDX input must be seekable.");
        return read == 2 && head[0] == 0x1f && head[1] == 0x8b ? new GZipStream(buffered, CompressionMode.Decompress) : buffered;
    }
}
