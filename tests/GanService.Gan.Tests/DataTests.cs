using GanService.Gan.Data;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class DataTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_images_and_labels_read_raw_or_gzipped(bool gzip)
    {
        var pixels = Enumerable.Range(0, 2 * 4 * 4).Select(i => (byte)i).ToArray();
        var (read, count, rows, cols) = IdxReader.ReadImages(Idx(pixels, [2, 4, 4], gzip));
        Assert.Equal((2, 4, 4), (count, rows, cols));
        Assert.Equal(pixels, read);
        Assert.Equal(new byte[] { 3, 9 }, IdxReader.ReadLabels(Idx([3, 9], [2], gzip)));
    }

    [Fact]
    public void A_truncated_or_foreign_idx_file_is_rejected()
    {
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(Idx(new byte[10], [2, 4, 4], false)));
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(new MemoryStream("GIF89a-not-idx"u8.ToArray())));
    }

    [Fact]
    public void Cifar_records_are_label_then_planar_rgb()
    {
        var record = new byte[1 + CifarReader.PixelBytes];
        record[0] = 6;
        record[1] = 200; // first red byte
        record[1 + 1024] = 100; // first green byte
        var (pixels, labels) = CifarReader.Read([new MemoryStream(record.Concat(record).ToArray())]);
        Assert.Equal(new byte[] { 6, 6 }, labels);
        using var data = new ImageDataset("cifar", pixels, 2, 3, 32);
        using var batch = data.Batch([1], CPU);
        Assert.Equal(200 / 127.5 - 1, batch[0, 0, 0, 0].item<float>(), 5);
        Assert.Equal(100 / 127.5 - 1, batch[0, 1, 0, 0].item<float>(), 5);
        Assert.Throws<InvalidDataException>(() => CifarReader.Read([new MemoryStream(record[..100])]));
    }

    [Fact]
    public void The_sampler_visits_every_item_once_per_epoch_and_reshuffles_each_epoch()
    {
        var sampler = new BatchSampler(seed: 4, count: 10, batchSize: 3);
        Assert.Equal(3, sampler.StepsPerEpoch);
        var epoch0 = Enumerable.Range(0, 3).SelectMany(s => sampler.Indices(s)).ToList();
        var epoch1 = Enumerable.Range(3, 3).SelectMany(s => sampler.Indices(s)).ToList();
        Assert.Equal(9, epoch0.Distinct().Count());
        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(epoch1, Enumerable.Range(3, 3).SelectMany(s => new BatchSampler(4, 10, 3).Indices(s)));
        Assert.Throws<ArgumentException>(() => new BatchSampler(0, count: 2, batchSize: 3));
    }

    [Fact]
    public void Synthetic_blobs_are_deterministic_and_mostly_dark_with_a_bright_disc()
    {
        using var a = SyntheticBlobs.Create(28, 3, seed: 5, count: 64);
        using var b = SyntheticBlobs.Create(28, 3, seed: 5, count: 64);
        var all = Enumerable.Range(0, 64).Select(i => (long)i).ToArray();
        using var x = a.Batch(all, CPU);
        using var y = b.Batch(all, CPU);
        Assert.True(x.eq(y).all().item<bool>());
        double bright = x.gt(0).to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(bright, 0.02, 0.35);
        Assert.Equal(-1f, x.min().item<float>());
    }

    [Fact]
    public void The_synthetic_translation_sets_pair_discs_with_their_inverse_or_with_other_inverted_discs()
    {
        var pairs = BuiltInDatasets.LoadTraining(SyntheticBlobs.PairsName, [], 32, 3, seed: 2);
        var unpaired = BuiltInDatasets.LoadTraining(SyntheticBlobs.UnpairedName, [], 32, 3, seed: 2);
        var a = pairs.Images.PixelBytes();
        Assert.Equal(a.Select(v => (byte)(255 - v)), pairs.Targets!.PixelBytes());
        Assert.Equal(a, unpaired.Images.PixelBytes());
        Assert.NotEqual(a.Select(v => (byte)(255 - v)), unpaired.Targets!.PixelBytes());
        Assert.Equal(SyntheticBlobs.TranslationCount, unpaired.Targets.Count);
        Assert.Equal(DatasetKind.Paired, SyntheticBlobs.KindOf(SyntheticBlobs.PairsName));
        Assert.Throws<ArgumentException>(() => BuiltInDatasets.Load(SyntheticBlobs.PairsName, [], 32, 3, 2));
    }

    [Fact]
    public void Reshape_resizes_and_converts_channels()
    {
        using var grey = SyntheticBlobs.Create(28, 1, count: 8);
        using var rgb = grey.Reshape(64, 3);
        Assert.Equal((64, 3, 8), (rgb.ImageSize, rgb.Channels, rgb.Count));
        using var batch = rgb.Batch([0], CPU);
        Assert.True(batch[0, 0].eq(batch[0, 2]).all().item<bool>());
    }

    [Fact]
    public void Labelled_paired_and_unpaired_data_load_in_batches()
    {
        // Item i of A is filled with i, of B with 100 + i; labels are i % 3.
        const int count = 12,
            size = 4,
            plane = size * size;
        var pixelsA = Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((byte)i, plane)).ToArray();
        var pixelsB = Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((byte)(100 + i), plane)).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 3)).ToArray();

        var labelled = new StoredDataset(
            new DatasetHeader("t", DatasetKind.Labelled, count, 0, 1, size, ["a", "b", "c"]),
            pixelsA,
            null,
            labels
        );
        var restored = StoredDataset.Deserialize(labelled.Serialize());
        Assert.Equal([4, 4, 4], restored.ClassCounts());
        using (var data = restored.ToImageDataset("l"))
        using (var y = data.LabelBatch([4, 5], CPU))
            Assert.Equal(new long[] { 1, 2 }, y.data<long>().ToArray());

        var paired = new StoredDataset(
            new DatasetHeader("t", DatasetKind.Paired, count, count, 1, size, []),
            pixelsA,
            pixelsB
        );
        using (var batches = new DomainBatches(StoredDataset.Deserialize(paired.Serialize()), seed: 3, batchSize: 4))
        {
            var (a, b) = batches.Batch(step: 1, CPU);
            using (a)
            using (b)
            {
                var ia = Items(a);
                Assert.Equal(ia.Select(i => i + 100), Items(b)); // A_i beside B_i
            }
        }

        var unpaired = new StoredDataset(
            new DatasetHeader("t", DatasetKind.Unpaired, count, 8, 1, size, []),
            pixelsA,
            pixelsB[..(8 * plane)]
        );
        using var domains = new DomainBatches(unpaired, seed: 3, batchSize: 4);
        var orders = Enumerable
            .Range(0, 3)
            .Select(step =>
            {
                var (a, b) = domains.Batch(step, CPU);
                using (a)
                using (b)
                    return (A: Items(a), B: Items(b).Select(i => i - 100).ToArray());
            })
            .ToList();
        Assert.Contains(orders, o => !o.A.SequenceEqual(o.B)); // shuffled independently
        Assert.All(orders, o => Assert.All(o.B, i => Assert.InRange(i, 0, 7)));
        Assert.Throws<ArgumentException>(() => new DomainBatches(labelled, 0, 4));
    }

    /// <summary>The byte value each item in a batch was filled with.</summary>
    private static int[] Items(Tensor batch) =>
        batch[.., 0, 0, 0].add(1).mul(127.5).round().to(ScalarType.Int32).data<int>().ToArray();

    [SharedDataFact("mnist")]
    public void Real_mnist_loads_with_labels()
    {
        using var mnist = BuiltInDatasets.Load("mnist", [SharedData.Root()!], 28, 1, seed: 0);
        Assert.Equal(60000, mnist.Count);
        Assert.Equal(60000, mnist.Labels!.Length);
        Assert.Equal(5, mnist.Labels[0]); // the first training digit is a five
    }

    [SharedDataFact("cifar10-subset")]
    public void Real_cifar10_subset_loads_at_32x32_rgb()
    {
        using var cifar = BuiltInDatasets.Load("cifar10", [SharedData.Root()!], 32, 3, seed: 0);
        Assert.Equal(4000, cifar.Count);
        Assert.Equal(new byte[] { 6, 9, 9, 4, 1, 1, 2, 7, 8, 3 }, cifar.Labels![..10]);
    }

    [InstalledDataFact("/usr/share/datasets/fashion-mnist")]
    public void Fashion_mnist_from_the_debian_package_loads_and_converts_to_rgb()
    {
        using var fashion = BuiltInDatasets.Load("fashion-mnist", ["/usr/share/datasets"], 32, 3, seed: 0);
        Assert.Equal((60000, 32, 3), (fashion.Count, fashion.ImageSize, fashion.Channels));
        Assert.Equal(9, fashion.Labels![0]); // the first training item is an ankle boot
    }

    [Fact]
    public void Missing_built_ins_are_reported_not_guessed()
    {
        Assert.Null(BuiltInDatasets.Locate("mnist", [Path.GetTempPath() + Guid.NewGuid()]));
        Assert.Throws<FileNotFoundException>(() => BuiltInDatasets.Load("cifar10", ["/nonexistent"], 32, 3, 0));
    }

    private static MemoryStream Idx(byte[] payload, int[] dims, bool gzip) => new(IdxFiles.Create(payload, dims, gzip));
}
