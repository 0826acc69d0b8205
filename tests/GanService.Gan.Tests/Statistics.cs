using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>Simple, model-free measures of how alike two sets of images in [-1, 1] are.</summary>
internal static class Statistics
{
    /// <summary>Total-variation distance (0 to 1) between the pixel-value histograms (16 bins) of two sets.</summary>
    public static double HistogramDistance(Tensor a, Tensor b)
    {
        var ha = Histogram(a);
        var hb = Histogram(b);
        return 0.5 * ha.Zip(hb, (x, y) => Math.Abs(x - y)).Sum();
    }

    public static double[] Histogram(Tensor images, int bins = 16)
    {
        using var h = images.detach().cpu().to(ScalarType.Float32).flatten().histc(bins, -1, 1);
        var counts = h.data<float>().ToArray();
        double total = counts.Sum();
        return counts.Select(c => c / total).ToArray();
    }
}
