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
        if (!gzip) return raw.ToArray();
        using var zipped = new MemoryStream();
        using (var gz = new GZipStream(zipped, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw.ToArray());
        return zipped.ToArray();
    }
}
