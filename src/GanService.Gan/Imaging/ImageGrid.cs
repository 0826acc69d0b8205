using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Imaging;

/// <summary>
/// Turns image tensors in [-1, 1] into PNG bytes: single images or a grid with padding between tiles.
/// </summary>
public static class ImageGrid
{
    public const int DefaultPadding = 2;
    private const byte PaddingGrey = 128;
    private static readonly PngEncoder Encoder = new() { CompressionLevel = PngCompressionLevel.DefaultCompression };

    /// <summary>Pixel size of a grid, so callers can state it without rendering.</summary>
    public static (int Width, int Height) Size(int count, int columns, int tile, int padding = DefaultPadding)
    {
        int cols = Math.Min(columns, count),
            rows = (count + cols - 1) / cols;
        return (cols * tile + (cols + 1) * padding, rows * tile + (rows + 1) * padding);
    }

    // Held for the life of the process. A Scalar converted implicitly from a number is a temporary that the GC may
    // finalize while the native call that reads it is still running (TorchSharp passes only its handle); under a
    // busy sampling load that freed a Scalar mid-call here and answered 500s.
    private static readonly Scalar One = 1.ToScalar(),
        HalfRange = 127.5.ToScalar(),
        Black = 0.ToScalar(),
        White = 255.ToScalar();

    /// <summary>
    /// Maps [-1, 1] to bytes [N, H, W, C]: -1 is 0 and 1 is 255, rounded, out-of-range values clamped.
    /// </summary>
    public static byte[] ToBytes(Tensor images)
    {
        using var scope = NewDisposeScope();
        var bytes = images
            .detach()
            .cpu()
            .add(One, One)
            .mul(HalfRange)
            .round()
            .clamp(Black, White)
            .to(ScalarType.Byte)
            .permute(0, 2, 3, 1)
            .contiguous();
        return bytes.data<byte>().ToArray();
    }

    /// <summary>Encodes images [N, C, H, W] as one PNG grid, row by row, <paramref name="columns"/> wide.</summary>
    public static byte[] EncodePng(Tensor images, int columns, int padding = DefaultPadding)
    {
        if (images.ndim != 4)
            throw new ArgumentException("Expected images [N, C, H, W].", nameof(images));
        int count = (int)images.shape[0],
            channels = (int)images.shape[1],
            height = (int)images.shape[2],
            width = (int)images.shape[3];
        if (height != width)
            throw new ArgumentException("Expected square images.", nameof(images));
        if (channels is not (1 or 3))
            throw new ArgumentException("Expected 1 or 3 channels.", nameof(images));
        if (columns < 1)
            throw new ArgumentOutOfRangeException(nameof(columns));
        var pixels = ToBytes(images);
        var (gridWidth, gridHeight) = Size(count, columns, width, padding);
        int cols = Math.Min(columns, count);
        var grid = new byte[gridWidth * gridHeight * channels];
        Array.Fill(grid, PaddingGrey);
        int tileBytes = width * height * channels,
            rowBytes = width * channels;
        for (int n = 0; n < count; n++)
        {
            int left = padding + (n % cols) * (width + padding),
                top = padding + (n / cols) * (height + padding);
            for (int y = 0; y < height; y++)
                Array.Copy(
                    pixels,
                    n * tileBytes + y * rowBytes,
                    grid,
                    ((top + y) * gridWidth + left) * channels,
                    rowBytes
                );
        }
        return channels == 1 ? Encode<L8>(grid, gridWidth, gridHeight) : Encode<Rgb24>(grid, gridWidth, gridHeight);
    }

    private static byte[] Encode<TPixel>(byte[] pixels, int width, int height)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var image = Image.LoadPixelData<TPixel>(pixels, width, height);
        using var output = new MemoryStream();
        image.Save(output, Encoder);
        return output.ToArray();
    }
}
