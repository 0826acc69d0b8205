using static TorchSharp.torch;

namespace GanService.Gan.Quality;

/// <summary>
/// Near-duplicate samples, the plainest sign of a collapsed generator: items whose nearest other item in feature
/// space is closer than real images of the dataset almost ever are to each other (docs/quality.md, "Evaluating a
/// checkpoint").
/// </summary>
public static class NearDuplicates
{
    /// <summary>The percentile of real nearest-neighbour distances taken as the duplicate radius.</summary>
    public const double RadiusPercentile = 1;

    /// <summary>
    /// The radius below which two items count as near-duplicates: the <see cref="RadiusPercentile"/>th percentile
    /// of the real items' distances to their nearest other real item. Exact duplicates within the real set are left
    /// out, so a dataset holding a few repeated images still gets a radius above zero.
    /// </summary>
    public static double Radius(Tensor real)
    {
        if (real.shape[0] < 2)
            throw new ArgumentException("The duplicate radius needs at least two real items.", nameof(real));
        using var scope = NewDisposeScope();
        var nearest = Nearest(real);
        double median = nearest.median().item<double>();
        var apart = nearest[nearest > median * 1e-6];
        if (apart.shape[0] == 0)
            return 0;
        return quantile(apart, RadiusPercentile / 100).item<double>();
    }

    /// <summary>The share of items whose nearest other item lies closer than <paramref name="radius"/>.</summary>
    public static double Share(Tensor items, double radius)
    {
        if (items.shape[0] < 2)
            throw new ArgumentException("Near-duplicates need at least two items.", nameof(items));
        using var scope = NewDisposeScope();
        return (Nearest(items) < radius).to(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>Each item's distance to its nearest other item in the same set, in float64.</summary>
    private static Tensor Nearest(Tensor items) => PrecisionRecall.Radii(items.to(ScalarType.Float64), k: 1);
}
