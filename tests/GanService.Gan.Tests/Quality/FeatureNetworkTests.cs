using GanService.Gan.Data;
using GanService.Gan.Quality;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Quality;

/// <summary>
/// The packaged network, run from the copy the build puts beside the test binaries. A nearest-class-mean classifier
/// on its features proves the preprocessing: a wrong scale (0-1) or channel order (BGR) falls far below the bar.
/// </summary>
public sealed class FeatureNetworkTests(ITestOutputHelper output)
{
    private static readonly Lazy<FeatureNetwork> Network = new(() => FeatureNetwork.Load());

    private static (Tensor Images, byte[] Labels) Cifar(string file, int take)
    {
        using var stream = File.OpenRead(Path.Combine(SharedData.Root()!, "cifar10-subset", file));
        var (pixels, labels) = CifarReader.Read([stream], take: take);
        return (tensor(pixels, [take, 3, 32, 32]), labels);
    }

    [SharedDataFact("cifar10-subset")]
    public void Nearest_class_means_of_cifar10_features_classify_most_test_images()
    {
        var (train, trainLabels) = Cifar("data_batch_1.0000-0999.bin", 500);
        var (test, testLabels) = Cifar("test_batch.0000-0999.bin", 200);
        var trainFeatures = Network.Value.Features(train);
        var testFeatures = Network.Value.Features(test);
        var means = stack(
            Enumerable
                .Range(0, 10)
                .Select(c => trainFeatures.index_select(0, tensor(Indices(trainLabels, c))).mean([0]))
        );
        var predicted = cdist(testFeatures, means).argmin(1).data<long>().ToArray();
        double accuracy = predicted.Zip(testLabels).Count(p => p.First == p.Second) / 200.0;
        output.WriteLine($"nearest-class-mean accuracy {accuracy:P1} at side {Network.Value.Side}");
        Assert.True(accuracy >= 0.70, $"nearest-class-mean accuracy {accuracy:P1}");
    }

    [Fact]
    public void Generator_images_in_minus_one_to_one_and_grey_images_get_the_features_of_their_bytes()
    {
        var bytes = randint(0, 256, [3, 1, 20, 20], ScalarType.Byte, generator: new Generator(4));
        var fromBytes = Network.Value.Features(bytes);
        var fromFloats = Network.Value.Features(bytes.to(ScalarType.Float32) / 127.5 - 1, batchSize: 2);
        var fromRgb = Network.Value.Features(bytes.expand(-1, 3, -1, -1));
        Assert.Equal([3L, FeatureNetwork.Dimensions], fromBytes.shape);
        Assert.True(fromBytes.allclose(fromFloats, rtol: 1e-4, atol: 1e-4));
        Assert.True(fromBytes.allclose(fromRgb, rtol: 1e-4, atol: 1e-4));
        Assert.Equal(ScalarType.Float64, fromBytes.dtype);
    }

    [Fact]
    public void Features_do_not_depend_on_the_batch_they_run_in()
    {
        // libtorch's oneDNN got one of these layers wrong for batches above one in some processes (docs/quality.md).
        var images = randint(0, 256, [32, 3, 32, 32], ScalarType.Byte, generator: new Generator(5));
        var alone = Network.Value.Features(images[..2], batchSize: 1);
        var together = Network.Value.Features(images, batchSize: 32)[..2];
        Assert.True(
            alone.allclose(together, rtol: 1e-4, atol: 1e-4),
            $"{(alone - together).abs().max().item<double>()}"
        );
    }

    [Fact]
    public void A_missing_model_is_reported_with_its_path()
    {
        var error = Assert.Throws<FileNotFoundException>(() => FeatureNetwork.Load(Path.GetTempPath() + "none"));
        Assert.Contains("ResNet", error.FileName);
    }

    private static long[] Indices(byte[] labels, int label) =>
        [.. labels.Select((l, i) => (l, i)).Where(p => p.l == label).Select(p => (long)p.i)];
}
