using static TorchSharp.torch;

namespace GanService.Gan.Data;

/// <summary>
/// Images held compactly as one uint8 tensor [N, C, H, W] (labels optional), converted to float in [-1, 1]
/// one batch at a time.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    private readonly Tensor pixels;

    public ImageDataset(string name, byte[] pixels, int count, int channels, int size, byte[]? labels = null)
    {
        if (pixels.Length != (long)count * channels * size * size)
            throw new ArgumentException($"Expected {count}x{channels}x{size}x{size} bytes, got {pixels.Length}.", nameof(pixels));
        Name = name;
        Count = count;
        Channels = channels;
        ImageSize = size;
        Labels = labels;
        this.pixels = tensor(pixels, [count, channels, size, size], ScalarType.Byte);
    }

    public string Name { get; }
    public int Count { get; }
    public int Channels { get; }
    public int ImageSize { get; }
    public byte[]? Labels { get; }

    /// <summary>The images at these indices as float32 in [-1, 1] on the given device.</summary>
    public Tensor Batch(long[] indices, Device device)
    {
        using var index = tensor(indices, ScalarType.Int64);
        using var bytes = pixels.index_select(0, index);
        using var onDevice = bytes.to(device);
        return onDevice.to(ScalarType.Float32).div_(127.5).sub_(1);
    }

    /// <summary>The labels at these indices as int64 on the given device, for class-conditional models.</summary>
    public Tensor LabelBatch(long[] indices, Device device)
    {
        if (Labels is null) throw new InvalidOperationException($"Dataset '{Name}' has no labels.");
        return tensor(indices.Select(i => (long)Labels[i]).ToArray(), ScalarType.Int64).to(device);
    }

    /// <summary>Returns a copy resized (bilinear, antialiased) and converted to the requested channel count.</summary>
    public ImageDataset Reshape(int size, int channels)
    {
        if (size == ImageSize && channels == Channels) return this;
        return new ImageDataset(Name, Resampled(size, channels), Count, channels, size, Labels);
    }

    private byte[] Resampled(int size, int channels)
    {
        using var scope = NewDisposeScope();
        var x = pixels.to(ScalarType.Float32);
        if (channels != Channels)
        {
            x = channels == 3
                ? x.expand(-1, 3, -1, -1)
                // ITU-R BT.601 luma, as image libraries convert RGB to grey
                : (x[.., 0..1] * 0.299 + x[.., 1..2] * 0.587 + x[.., 2..3] * 0.114);
        }
        if (size != ImageSize)
            x = nn.functional.interpolate(x, [size, size], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
        return x.round().clamp(0, 255).to(ScalarType.Byte).contiguous().data<byte>().ToArray();
    }

    /// <summary>A copy of the pixels, [N, C, H, W] row-major.</summary>
    public byte[] PixelBytes() => pixels.contiguous().data<byte>().ToArray();

    public void Dispose() => pixels.Dispose();
}
