using static TorchSharp.torch;

namespace GanService.Gan.Imaging;

/// <summary>Simple, model-free measures of how alike two sets of images in [-1, 1] are.</summary>
public static class ImageStatistics
{
    /// <summary>Fractions of pixel values in <paramref name="bins"/> equal bins over [-1, 1].</summary>
    public static double[] Histogram(Tensor images, int bins = 16)
    {
        using var h = images.detach().cpu().to(ScalarType.Float32).flatten().histc(bins, -1, 1);
        var counts = h.data<float>().ToArray();
        double total = counts.Sum();
        return counts.Select(c => c / total).ToArray();
    }

    /// <summary>
    /// Total-variation distance (0 = same, 1 = disjoint) between the pixel-value histograms of two sets.
    /// </summary>
    public static double HistogramDistance(Tensor a, Tensor b, int bins = 16) =>
        0.5 * Histogram(a, bins).Zip(Histogram(b, bins), (x, y) => Math.Abs(x - y)).Sum();
}
