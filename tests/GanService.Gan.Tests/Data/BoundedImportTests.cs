using System.Formats.Tar;
using System.IO.Compression;
using GanService.Gan.Data;
using GanService.Gan.Data.Import;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Data;

/// <summary>
/// Hostile imports are refused from what they claim and what they would produce, before the buffers for them exist;
/// what is read is counted as it is read. Allocations are measured on the importing thread.
/// </summary>
public class BoundedImportTests
{
    private const long Small = 8L << 20;

    [Fact]
    public void An_idx_header_claiming_more_than_the_limits_is_refused_before_anything_is_allocated()
    {
        var bomb = IdxFiles.Bomb([2_000_000, 28, 28], zeros: 1 << 20); // says 1.6 GB, holds 1 MB of zeros
        var (error, allocated) = Refused(() => Import("idx", new ImportLimits(), bomb));
        Assert.Equal("images", error.Field);
        Assert.True(allocated < Small, $"refusing it allocated {allocated >> 20} MB");
    }

    [Fact]
    public void An_idx_payload_that_would_inflate_past_the_ratio_is_refused_before_it_is_read()
    {
        var bomb = IdxFiles.Bomb([60_000, 28, 28], zeros: 60_000 * 784);
        Assert.True(bomb.Length < 100_000);
        var (error, allocated) = Refused(() => Import("idx", new ImportLimits(), bomb));
        Assert.Equal("images", error.Field);
        Assert.Contains("fold", error.Message);
        Assert.True(allocated < Small, $"refusing it allocated {allocated >> 20} MB");
    }

    [Fact]
    public void Idx_parts_are_budgeted_together_from_their_headers_before_any_payload_is_read()
    {
        // Each part alone is within the limits (the ratio raised so that it is): together they hold 300,000 items.
        var part = IdxFiles.Bomb([150_000, 28, 28], zeros: 150_000 * 784);
        var limits = new ImportLimits { MaxCompressionRatio = 1e6 };
        var (error, allocated) = Refused(() => Import("idx", limits, part, part));
        Assert.Contains("300000 items", error.Message);
        Assert.True(allocated < Small, $"refusing two parts allocated {allocated >> 20} MB");
    }

    [Fact]
    public void More_parts_than_the_cap_are_refused()
    {
        var part = IdxFiles.Create(new byte[2 * 4 * 4], [2, 4, 4]);
        var (error, _) = Refused(() => Import("idx", new ImportLimits(), Enumerable.Repeat(part, 9).ToArray()));
        Assert.Equal(("images", true), (error.Field, error.Message.Contains("limit is 8")));
        Assert.Equal(16, Import("idx", new ImportLimits(), Enumerable.Repeat(part, 8).ToArray()).Dataset.Header.Count);
    }

    [Fact]
    public void With_max_items_only_the_kept_items_are_held_and_every_label_names_a_class()
    {
        var pixels = Enumerable.Range(0, 4 * 16).Select(i => (byte)i).ToArray();
        var images = IdxFiles.Create(pixels, [4, 4, 4], gzip: true);
        var labels = IdxFiles.Create([0, 1, 2, 9], [4], gzip: true);
        var result = new DatasetImporter(new ImportLimits())
            .Import("idx", [new MemoryStream(images)], [new MemoryStream(labels)], new ImportOptions(MaxItems: 2))
            .Dataset;
        Assert.Equal((2, 10), (result.Header.Count, result.Header.Classes.Count));
        Assert.Equal(new byte[] { 0, 1 }, result.Labels);
        Assert.Equal(pixels[..32], result.Pixels);
    }

    [Fact]
    public void Cifar_over_the_limits_is_refused_from_its_length()
    {
        var batch = new byte[100 * (1 + CifarReader.PixelBytes)];
        var (read, _) = Refused(() => Import("cifar10", new ImportLimits { MaxDecompressedBytes = 64 << 10 }, batch));
        Assert.Contains("65536", read.Message);
        var (stored, _) = Refused(() => Import("cifar10", new ImportLimits { MaxStoredBytes = 100_000 }, batch));
        Assert.Equal("imageSize", stored.Field);
        var ten = Import(
            "cifar10",
            new ImportLimits { MaxStoredBytes = 100_000 },
            new ImportOptions(MaxItems: 10),
            batch
        );
        Assert.Equal(10, ten.Dataset.Header.Count);
    }

    [Fact]
    public void An_archive_that_would_pass_the_stored_budget_is_refused_before_any_image_is_decoded()
    {
        var dot = Png(1, 1);
        var zip = ArchiveFiles.Zip(
            CompressionLevel.Optimal,
            Enumerable.Range(0, 300).Select(i => ($"{i}.png", dot)).ToArray()
        );
        var limits = new ImportLimits { MaxStoredBytes = 10 << 20 }; // 300 x 256 x 256 x 3 is 59 MB
        var (error, allocated) = Refused(() => Import("archive", limits, new ImportOptions(ImageSize: 256), zip));
        Assert.Equal("imageSize", error.Field);
        Assert.Contains("58982400 bytes", error.Message);
        Assert.True(allocated < Small, $"refusing it allocated {allocated >> 20} MB");
    }

    [Fact]
    public void A_gzipped_tar_is_held_to_the_compression_ratio()
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
            tar.WriteEntry(
                new PaxTarEntry(TarEntryType.RegularFile, "zeros.png")
                {
                    DataStream = new MemoryStream(new byte[4 << 20]),
                }
            );
        output.Position = 0;
        var error = Assert.Throws<DatasetImportException>(() => ArchiveReader.Open(output, new ImportLimits()));
        Assert.True(error.TooLarge);
        Assert.Contains("fold", error.Message);
    }

    [Fact]
    public void Archive_entries_are_listed_without_being_read_and_read_one_at_a_time()
    {
        var entries = Enumerable.Range(0, 20).Select(i => ($"{i:00}.bin", Noise(200_000, i))).ToArray();
        using var zip = new MemoryStream(ArchiveFiles.Zip(CompressionLevel.NoCompression, entries));
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var contents = ArchiveReader.Open(zip, new ImportLimits());
        long listing = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(listing < 1 << 20, $"listing 4 MB of entries allocated {listing >> 10} KB");
        Assert.Equal(entries.Select(e => e.Item2), contents.Entries.Select(contents.Read));
    }

    [Fact]
    public void The_bounded_stream_counts_what_is_read_against_its_byte_limit_and_ratio()
    {
        var limits = new ImportLimits();
        var zeros = Gzip(new byte[8 << 20]);
        using (var input = BoundedStream.Open(new MemoryStream(zeros), "zeros", "file", long.MaxValue, limits))
        {
            var error = Assert.Throws<DatasetImportException>(() => input.CopyTo(Stream.Null));
            Assert.Contains("fold", error.Message);
            Assert.True(input.BytesRead < 100 * (zeros.Length + (128 << 10)), $"{input.BytesRead} bytes were inflated");
        }
        var noise = new MemoryStream(Gzip(Noise(1 << 20, 1)));
        using (var input = BoundedStream.Open(noise, "noise", "file", 256 << 10, limits))
        {
            var error = Assert.Throws<DatasetImportException>(() => input.CopyTo(Stream.Null));
            Assert.Contains("262144", error.Message);
            Assert.True(input.BytesRead <= (256 << 10) + 1);
        }
    }

    [Theory]
    [InlineData(28, 1, 64, 3)]
    [InlineData(32, 3, 8, 1)]
    [InlineData(28, 1, 256, 1)]
    [InlineData(64, 3, 28, 3)]
    public void Resizing_a_few_images_at_a_time_gives_the_bytes_of_resizing_all_at_once(
        int fromSize,
        int fromChannels,
        int size,
        int channels
    )
    {
        const int count = 50;
        var pixels = Noise(count * fromChannels * fromSize * fromSize, size);
        var whole = WholeResize(pixels, count, fromChannels, fromSize, size, channels);
        var chunked = new byte[whole.Length];
        ImageResampler.Resample(pixels, chunked, count, fromChannels, fromSize, size, channels, chunkItems: 7);
        Assert.Equal(whole, chunked);
        using var data = new ImageDataset("noise", pixels, count, fromChannels, fromSize);
        using var reshaped = data.Reshape(size, channels);
        Assert.Equal(whole, reshaped.PixelBytes());
    }

    [Fact]
    public void Resizing_per_batch_gives_the_batches_of_resizing_first()
    {
        const int count = 40;
        using var data = new ImageDataset("noise", Noise(count * 28 * 28, 3), count, 1, 28, labels: new byte[count]);
        using var first = data.Reshape(64, 3, maxBytes: long.MaxValue);
        using var perBatch = data.Reshape(64, 3, maxBytes: 0);
        Assert.Equal((false, true), (first.ResizesPerBatch, perBatch.ResizesPerBatch));
        Assert.Equal((64, 3, count), (perBatch.ImageSize, perBatch.Channels, perBatch.Count));
        var random = new Random(7);
        for (int step = 0; step < 5; step++)
        {
            var indices = Enumerable.Range(0, 8).Select(_ => (long)random.Next(count)).ToArray();
            using var expected = first.Batch(indices, CPU);
            using var actual = perBatch.Batch(indices, CPU);
            Assert.True(expected.eq(actual).all().item<bool>(), $"batch {step} differs");
        }
        Assert.Equal(first.PixelBytes(), perBatch.PixelBytes());
    }

    /// <summary>The resize as it was before chunking: the whole dataset in one call, as one float32 tensor.</summary>
    private static byte[] WholeResize(byte[] pixels, int count, int fromChannels, int fromSize, int size, int channels)
    {
        using var all = tensor(pixels, [count, fromChannels, fromSize, fromSize], ScalarType.Byte);
        using var resized = ImageResampler.Resample(all, size, channels);
        return resized.data<byte>().ToArray();
    }

    private static ImportResult Import(string format, ImportLimits limits, params byte[][] files) =>
        Import(format, limits, new ImportOptions(), files);

    private static ImportResult Import(
        string format,
        ImportLimits limits,
        ImportOptions options,
        params byte[][] files
    ) =>
        new DatasetImporter(limits).Import(
            format,
            files.Select(f => (Stream)new MemoryStream(f)).ToList(),
            [],
            options
        );

    /// <summary>The refusal (a size limit: 413) and the bytes this thread allocated on the way to it.</summary>
    private static (DatasetImportException Error, long Allocated) Refused(Func<ImportResult> import)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DatasetImportException>(() => import());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(error.TooLarge, $"not refused as too large: {error.Message}");
        return (error, allocated);
    }

    private static byte[] Noise(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
            gzip.Write(content);
        return output.ToArray();
    }

    private static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(10, 200, 30));
        using var output = new MemoryStream();
        image.SaveAsPng(output);
        return output.ToArray();
    }
}
