using static TorchSharp.torch;

namespace GanService.Gan.Quality;

/// <summary>
/// Precision and recall of a generator's features against real ones (Kynkaanniemi et al. 2019). Each set's
/// manifold is the union of balls around its items, each ball reaching to the item's k-th nearest neighbour in
/// the same set. Precision is the share of generated items inside the real manifold (are samples realistic?),
/// recall the share of real items inside the generated manifold (is the data covered, or has the generator
/// collapsed?).
/// </summary>
public static class PrecisionRecall
{
    public const int DefaultK = 3;

    /// <summary>Rows of a distance matrix computed at once, bounding its memory for large sets.</summary>
    private const long RowsPerChunk = 1024;

    public static (double Precision, double Recall) Compute(Tensor real, Tensor fake, int k = DefaultK)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (real.shape[0] <= k || fake.shape[0] <= k)
            throw new ArgumentException($"Precision and recall need more than k = {k} items in each set.");
        using var scope = NewDisposeScope();
        var (x, y) = (real.to(ScalarType.Float64), fake.to(ScalarType.Float64));
        return (Coverage(x, Radii(x, k), y), Coverage(y, Radii(y, k), x));
    }

    /// <summary>Each item's distance to its k-th nearest neighbour in the same set (itself excluded).</summary>
    internal static Tensor Radii(Tensor set, int k)
    {
        var radii = new List<Tensor>();
        for (long start = 0; start < set.shape[0]; start += RowsPerChunk)
        {
            var rows = set.narrow(0, start, Math.Min(RowsPerChunk, set.shape[0] - start));
            // k + 1 smallest: the item itself, at distance 0, comes first.
            var nearest = cdist(rows, set).topk(k + 1, dim: 1, largest: false).values;
            radii.Add(nearest[.., k]);
        }
        return cat(radii, 0);
    }

    /// <summary>The share of <paramref name="queries"/> inside at least one ball of the manifold.</summary>
    internal static double Coverage(Tensor centres, Tensor radii, Tensor queries)
    {
        long inside = 0;
        for (long start = 0; start < queries.shape[0]; start += RowsPerChunk)
        {
            using var step = NewDisposeScope();
            var rows = queries.narrow(0, start, Math.Min(RowsPerChunk, queries.shape[0] - start));
            inside += (cdist(rows, centres) <= radii.unsqueeze(0)).any(1).sum().item<long>();
        }
        return (double)inside / queries.shape[0];
    }
}
