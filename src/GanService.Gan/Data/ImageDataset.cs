using static TorchSharp.torch;

namespace GanService.Gan.Data;

/// <summary>
/// Images held compactly as one uint8 tensor [N, C, H, W] (labels optional), converted to float in [-1, 1]
/// one batch at a time. A dataset reshaped beyond its byte budget keeps its stored pixels and resizes each batch
/// as it is drawn, to the same bytes a resized copy would hold.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    /// <summary>
    /// The default budget of a resized copy (<c>Gan:Datasets:MaxShapedBytes</c>; docs/reliability.md, "Budgets").
    /// </summary>
    public const long DefaultMaxShapedBytes = 1L << 30;

    private readonly Tensor pixels;
    private readonly int storedChannels,
        storedSize;

    public ImageDataset(string name, byte[] pixels, int count, int channels, int size, byte[]? labels = null)
        : this(name, Validated(pixels, count, channels, size), count, channels, size, labels) { }

    /// <summary>Over a uint8 tensor it takes ownership of, seen at the given size and channels.</summary>
    private ImageDataset(string name, Tensor pixels, int count, int channels, int size, byte[]? labels)
    {
        Name = name;
        Count = count;
        Channels = channels;
        ImageSize = size;
        Labels = labels;
        this.pixels = pixels;
        storedChannels = (int)pixels.shape[1];
        storedSize = (int)pixels.shape[2];
    }

    public string Name { get; }
    public int Count { get; }
    public int Channels { get; }
    public int ImageSize { get; }
    public byte[]? Labels { get; }

    /// <summary>Whether batches are resized as they are drawn (a resized copy would have passed its budget).</summary>
    public bool ResizesPerBatch => storedChannels != Channels || storedSize != ImageSize;

    /// <summary>The images at these indices as float32 in [-1, 1] on the given device.</summary>
    public Tensor Batch(long[] indices, Device device)
    {
        using var index = tensor(indices, ScalarType.Int64);
        using var stored = pixels.index_select(0, index);
        using var resized = ResizesPerBatch ? ImageResampler.Resample(stored, ImageSize, Channels) : null;
        using var onDevice = (resized ?? stored).to(device);
        return onDevice.to(ScalarType.Float32).div_(127.5).sub_(1);
    }

    /// <summary>The labels at these indices as int64 on the given device, for class-conditional models.</summary>
    public Tensor LabelBatch(long[] indices, Device device)
    {
        if (Labels is null)
            throw new InvalidOperationException($"Dataset '{Name}' has no labels.");
        return tensor(indices.Select(i => (long)Labels[i]).ToArray(), ScalarType.Int64).to(device);
    }

    /// <summary>
    /// The dataset resized (bilinear, antialiased) and converted to the requested channel count: a uint8 copy made a
    /// few images at a time, or, where that copy would pass <paramref name="maxBytes"/>, a view over these pixels
    /// that resizes each batch as it is drawn (to the same bytes). Either way the caller may dispose this dataset.
    /// </summary>
    public ImageDataset Reshape(int size, int channels, long maxBytes = DefaultMaxShapedBytes)
    {
        if (size == ImageSize && channels == Channels)
            return this;
        if (ResizesPerBatch)
            throw new InvalidOperationException("A dataset resized per batch is not reshaped again.");
        long bytes = (long)Count * channels * size * size;
        if (bytes > maxBytes || bytes > Array.MaxLength)
            return new ImageDataset(Name, pixels.alias(), Count, channels, size, Labels);
        var shaped = empty([Count, channels, size, size], ScalarType.Byte);
        ImageResampler.Resample(pixels.bytes, shaped.bytes, Count, Channels, ImageSize, size, channels);
        return new ImageDataset(Name, shaped, Count, channels, size, Labels);
    }

    /// <summary>A copy of the pixels at this dataset's geometry, [N, C, H, W] row-major.</summary>
    public byte[] PixelBytes()
    {
        if (!ResizesPerBatch)
            return pixels.contiguous().data<byte>().ToArray();
        var shaped = new byte[(long)Count * Channels * ImageSize * ImageSize];
        ImageResampler.Resample(pixels.bytes, shaped, Count, storedChannels, storedSize, ImageSize, Channels);
        return shaped;
    }

    public void Dispose() => pixels.Dispose();

    private static Tensor Validated(byte[] pixels, int count, int channels, int size)
    {
        if (pixels.Length != (long)count * channels * size * size)
            throw new ArgumentException(
                $"Expected {count}x{channels}x{size}x{size} bytes, got {pixels.Length}.",
                nameof(pixels)
            );
        return tensor(pixels, [count, channels, size, size], ScalarType.Byte);
    }
}
