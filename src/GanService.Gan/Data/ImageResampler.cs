using static TorchSharp.torch;

namespace GanService.Gan.Data;

/// <summary>
/// Resizes uint8 images [N, C, H, W] (bilinear, antialiased) and converts their channels. Every op works on each
/// image alone, so resizing a dataset a few images at a time, or one batch at a time as it is drawn, gives the
/// same bytes as resizing it whole, without its float32 copy (docs/reliability.md, "Budgets").
/// </summary>
internal static class ImageResampler
{
    /// <summary>The float32 working set of one chunk: its largest tensor, input or output.</summary>
    private const long ChunkFloatBytes = 16L << 20;

    /// <summary>The images resized and converted, as uint8; the input is left as it is.</summary>
    public static Tensor Resample(Tensor images, int size, int channels)
    {
        using var scope = NewDisposeScope();
        int fromChannels = (int)images.shape[1],
            fromSize = (int)images.shape[2];
        var x = images.to(ScalarType.Float32);
        if (channels != fromChannels)
        {
            x =
                channels == 3
                    ? x.expand(-1, 3, -1, -1)
                    // ITU-R BT.601 luma, as image libraries convert RGB to grey
                    : (x[.., 0..1] * 0.299 + x[.., 1..2] * 0.587 + x[.., 2..3] * 0.114);
        }
        if (size != fromSize)
            x = nn.functional.interpolate(
                x,
                [size, size],
                mode: InterpolationMode.Bilinear,
                align_corners: false,
                antialias: true
            );
        return x.round().clamp(0, 255).to(ScalarType.Byte).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Images per chunk, so that no float32 tensor of a chunk passes <see cref="ChunkFloatBytes"/>.</summary>
    public static int ChunkItems(int fromChannels, int fromSize, int size, int channels)
    {
        long input = (long)Math.Max(fromChannels, channels) * fromSize * fromSize;
        long largest = 4L * Math.Max(input, (long)channels * size * size);
        return (int)Math.Max(1, ChunkFloatBytes / largest);
    }

    /// <summary>
    /// Resizes <paramref name="count"/> images from <paramref name="source"/> into <paramref name="target"/>, a chunk
    /// of images at a time (<paramref name="chunkItems"/>, or as many as fit the working set); the caller has
    /// allocated the target (count x channels x size^2 bytes).
    /// </summary>
    public static void Resample(
        ReadOnlySpan<byte> source,
        Span<byte> target,
        int count,
        int fromChannels,
        int fromSize,
        int size,
        int channels,
        int chunkItems = 0
    )
    {
        long fromItem = (long)fromChannels * fromSize * fromSize,
            toItem = (long)channels * size * size;
        if (source.Length != count * fromItem || target.Length != count * toItem)
            throw new ArgumentException($"Expected {count} images of {fromItem} bytes in and {toItem} out.");
        int chunk = chunkItems > 0 ? chunkItems : ChunkItems(fromChannels, fromSize, size, channels);
        for (int start = 0; start < count; start += chunk)
        {
            int n = Math.Min(chunk, count - start);
            using var input = empty([n, fromChannels, fromSize, fromSize], ScalarType.Byte);
            source.Slice((int)(start * fromItem), (int)(n * fromItem)).CopyTo(input.bytes);
            using var output = Resample(input, size, channels);
            output.bytes.CopyTo(target.Slice((int)(start * toItem), (int)(n * toItem)));
        }
    }
}
