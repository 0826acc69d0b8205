namespace GanService.Gan.Data;

/// <summary>
/// Reads CIFAR binary batches: per record one label byte (CIFAR-10) or coarse and fine label bytes (CIFAR-100),
/// then 1024 red, 1024 green and 1024 blue bytes of a 32x32 image, which is already the [C, H, W] layout.
/// </summary>
public static class CifarReader
{
    public const int Size = 32, Channels = 3, PixelBytes = Size * Size * Channels;

    public static (byte[] Pixels, byte[] Labels) Read(IReadOnlyList<Stream> batches, int labelBytes = 1)
    {
        int record = labelBytes + PixelBytes;
        var pixels = new List<byte[]>();
        var labels = new List<byte>();
        foreach (var stream in batches)
        {
            var buffer = new byte[record];
            while (true)
            {
                int read = stream.ReadAtLeast(buffer, record, throwOnEndOfStream: false);
                if (read == 0) break;
                if (read < record) throw new InvalidDataException($"A CIFAR batch ends inside a record ({read} of {record} bytes).");
                labels.Add(buffer[labelBytes - 1]); // CIFAR-100: the fine label
                pixels.Add(buffer[labelBytes..]);
            }
        }
        var all = new byte[(long)pixels.Count * PixelBytes];
        for (int i = 0; i < pixels.Count; i++) pixels[i].CopyTo(all, (long)i * PixelBytes);
        return (all, labels.ToArray());
    }
}
