using System.Buffers.Binary;
using System.IO.Compression;

namespace GanService.Testing;

/// <summary>IDX files (the MNIST layout) made in tests: magic, big-endian dimensions, payload; raw or gzip.</summary>
public static class IdxFiles
{
    public static byte[] Create(byte[] payload, int[] dims, bool gzip = false)
    {
        using var raw = new MemoryStream();
        raw.Write([0, 0, 0x08, (byte)dims.Length]);
        Span<byte> word = stackalloc byte[4];
        foreach (var d in dims)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            raw.Write(word);
        }
        raw.Write(payload);
        if (!gzip)
            return raw.ToArray();
        using var zipped = new MemoryStream();
        using (var gz = new GZipStream(zipped, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(raw.ToArray());
        return zipped.ToArray();
    }

    /// <summary>
    /// A gzip'd IDX file whose header says <paramref name="dims"/> and whose payload is <paramref name="zeros"/> zero
    /// bytes: about a thousandth of that once compressed, made without ever holding it.
    /// </summary>
    public static byte[] Bomb(int[] dims, long zeros)
    {
        using var zipped = new MemoryStream();
        using (var gz = new GZipStream(zipped, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gz.Write(Create([], dims));
            var block = new byte[1 << 20];
            for (long left = zeros; left > 0; left -= block.Length)
                gz.Write(block, 0, (int)Math.Min(block.Length, left));
        }
        return zipped.ToArray();
    }
}
