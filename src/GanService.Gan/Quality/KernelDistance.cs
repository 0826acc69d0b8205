using static TorchSharp.torch;

namespace GanService.Gan.Quality;

/// <summary>
/// The kernel distance (KID, Binkowski et al. 2018): the unbiased estimate of the squared maximum mean discrepancy
/// with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets of both sets, with its
/// standard deviation across them. Unlike the Frechet distance it has no bias from the sample count.
/// </summary>
public static class KernelDistance
{
    public const int DefaultSubsets = 100,
        DefaultSubsetSize = 1000;

    /// <summary>
    /// The mean and standard deviation of the unbiased MMD^2 over <paramref name="subsets"/> subsets of
    /// min(<paramref name="subsetSize"/>, |real|, |fake|) items each, drawn without replacement by
    /// <paramref name="seed"/>.
    /// </summary>
    public static (double Mean, double Std) Compute(
        Tensor real,
        Tensor fake,
        int subsets = DefaultSubsets,
        int subsetSize = DefaultSubsetSize,
        long seed = 0
    )
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(subsets, 1);
        long size = Math.Min(subsetSize, Math.Min(real.shape[0], fake.shape[0]));
        if (size < 2)
            throw new ArgumentException("The kernel distance needs at least two items in each set.");
        using var scope = NewDisposeScope();
        var (x, y) = (real.to(ScalarType.Float64), fake.to(ScalarType.Float64));
        var random = new Generator((ulong)seed);
        var values = new double[subsets];
        for (int s = 0; s < subsets; s++)
        {
            using var step = NewDisposeScope();
            var pickX = randperm(x.shape[0], generator: random)[..(int)size];
            var pickY = randperm(y.shape[0], generator: random)[..(int)size];
            values[s] = UnbiasedMmd2(x.index_select(0, pickX), y.index_select(0, pickY));
        }
        double mean = values.Average();
        double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
        return (mean, std);
    }

    /// <summary>
    /// The unbiased MMD^2 of two equally sized sets: the within-set kernel means leave out the diagonal
    /// (each item with itself), the cross term keeps every pair.
    /// </summary>
    public static double UnbiasedMmd2(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        long m = x.shape[0];
        double d = x.shape[1];
        Tensor Kernel(Tensor a, Tensor b) => (a.matmul(b.t()) / d + 1).pow(3);
        var kxx = Kernel(x, x);
        var kyy = Kernel(y, y);
        var kxy = Kernel(x, y);
        var within = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1));
        return (within - 2 * kxy.sum() / (m * m)).item<double>();
    }
}
