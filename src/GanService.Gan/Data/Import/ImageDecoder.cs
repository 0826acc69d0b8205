using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace GanService.Gan.Data.Import;

/// <summary>
/// Decodes untrusted images: PNG and JPEG only, dimensions checked with Identify before any pixel is decoded, and
/// an allocator whose limit bounds what one decode may take.
/// </summary>
public sealed class ImageDecoder
{
    private readonly Configuration configuration;
    private readonly ImportLimits limits;

    public ImageDecoder(ImportLimits limits)
    {
        this.limits = limits;
        configuration = new Configuration(new PngConfigurationModule(), new JpegConfigurationModule())
        {
            MemoryAllocator = MemoryAllocator.Create(
                new MemoryAllocatorOptions
                {
                    AllocationLimitMegabytes = (int)Math.Max(16, limits.MaxImagePixels * 4 / (1 << 20) + 16),
                }
            ),
        };
    }

    /// <summary>Decodes, fits to a size x size square and returns planar bytes [C, H, W].</summary>
    public byte[] Decode(byte[] encoded, string entry, int size, int channels, FitMode fit)
    {
        using var image = LoadChecked(encoded, entry);
        return Fitted(image, size, channels, fit);
    }

    /// <summary>Decodes a side-by-side A|B image (the pix2pix layout) into its two halves, each fitted alike.</summary>
    public (byte[] A, byte[] B) DecodePair(byte[] encoded, string entry, int size, int channels, FitMode fit)
    {
        using var image = LoadChecked(encoded, entry);
        if (image.Width < 2)
            throw new DatasetImportException($"'{entry}' is too narrow to hold an A|B pair.");
        int half = image.Width / 2;
        using var a = image.Clone(x => x.Crop(new Rectangle(0, 0, half, image.Height)));
        using var b = image.Clone(x => x.Crop(new Rectangle(half, 0, half, image.Height)));
        return (Fitted(a, size, channels, fit), Fitted(b, size, channels, fit));
    }

    private Image<Rgb24> LoadChecked(byte[] encoded, string entry)
    {
        var info = Identify(encoded, entry);
        if (
            info.Width > limits.MaxImageSide
            || info.Height > limits.MaxImageSide
            || (long)info.Width * info.Height > limits.MaxImagePixels
        )
            throw new DatasetImportException(
                $"'{entry}' is {info.Width}x{info.Height} pixels; "
                    + $"the limit is {limits.MaxImageSide} a side and {limits.MaxImagePixels} in all.",
                tooLarge: true
            );
        return Load(encoded, entry);
    }

    private IImageInfo Identify(byte[] encoded, string entry)
    {
        try
        {
            using var stream = new MemoryStream(encoded, writable: false);
            return Image.Identify(configuration, stream)
                ?? throw new DatasetImportException($"'{entry}' is not a PNG or JPEG image.");
        }
        catch (Exception e)
            when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException)
        {
            throw new DatasetImportException($"'{entry}' is not a PNG or JPEG image ({e.Message}).");
        }
    }

    private Image<Rgb24> Load(byte[] encoded, string entry)
    {
        try
        {
            return Image.Load<Rgb24>(configuration, encoded);
        }
        catch (Exception e)
            when (e
                    is UnknownImageFormatException
                        or InvalidImageContentException
                        or InvalidMemoryOperationException
                        or NotSupportedException
            )
        {
            throw new DatasetImportException($"'{entry}' cannot be decoded: {e.Message}");
        }
    }

    private static byte[] Fitted(Image<Rgb24> image, int size, int channels, FitMode fit)
    {
        image.Mutate(x =>
            x.Resize(
                new ResizeOptions
                {
                    Size = new Size(size, size),
                    Mode = fit == FitMode.Crop ? ResizeMode.Crop : ResizeMode.Pad,
                    PadColor = Color.Black,
                    Sampler = KnownResamplers.Bicubic,
                }
            )
        );
        return Planar(image, channels);
    }

    private static byte[] Planar(Image<Rgb24> image, int channels)
    {
        int plane = image.Width * image.Height;
        var planar = new byte[plane * channels];
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    int at = y * rows.Width + x;
                    var p = row[x];
                    if (channels == 1)
                        planar[at] = (byte)Math.Round(0.299 * p.R + 0.587 * p.G + 0.114 * p.B);
                    else
                    {
                        planar[at] = p.R;
                        planar[at + plane] = p.G;
                        planar[at + 2 * plane] = p.B;
                    }
                }
            }
        });
        return planar;
    }
}
