using GanService.Gan.Quality;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Quality;

/// <summary>Each metric against closed forms and against plain float64 loops written independently here.</summary>
public sealed class MetricTests
{
    private static Tensor Normal(long n, long d, long seed, double shift = 0) =>
        randn([n, d], ScalarType.Float64, generator: new Generator((ulong)seed)) + shift;

    [Fact]
    public void Frechet_distance_of_unit_gaussians_is_the_squared_mean_shift()
    {
        // mu = 0.5 in each of 16 dimensions: |mu|^2 = 4. With 20000 samples the estimate's error is a few hundredths.
        double fd = FrechetDistance.Between(Normal(20000, 16, 1), Normal(20000, 16, 2, shift: 0.5));
        Assert.InRange(fd, 3.9, 4.15);
        Assert.InRange(FrechetDistance.Between(Normal(20000, 16, 3), Normal(20000, 16, 4)), 0, 0.05);
    }

    [Fact]
    public void Frechet_distance_matches_the_closed_form_for_diagonal_covariances()
    {
        // For diagonal C1 = diag(a), C2 = diag(b): tr((C1 C2)^(1/2)) = sum sqrt(a b).
        double[] a = [1, 4, 9, 0.25],
            b = [2, 1, 16, 1],
            mu = [1, -2, 0.5, 0];
        var c1 = diag(tensor(a, ScalarType.Float64));
        var c2 = diag(tensor(b, ScalarType.Float64));
        // A rotation makes the covariances non-diagonal without changing the distance.
        var (q, _) = linalg.qr(Normal(4, 4, 5));
        double fd = FrechetDistance.Compute(
            zeros(4, ScalarType.Float64),
            q.matmul(c1).matmul(q.t()),
            q.matmul(tensor(mu, ScalarType.Float64)),
            q.matmul(c2).matmul(q.t())
        );
        double expected = mu.Sum(m => m * m) + a.Zip(b).Sum(p => Math.Pow(Math.Sqrt(p.First) - Math.Sqrt(p.Second), 2));
        Assert.Equal(expected, fd, 9);
    }

    [Fact]
    public void Moments_are_the_mean_and_the_unbiased_covariance()
    {
        var x = Normal(50, 3, 6);
        var (mean, covariance) = FrechetDistance.Moments(x);
        var rows = Enumerable.Range(0, 50).Select(i => x[i].data<double>().ToArray()).ToArray();
        for (int j = 0; j < 3; j++)
        {
            double mj = rows.Average(r => r[j]);
            Assert.Equal(mj, mean[j].item<double>(), 12);
            for (int k = 0; k < 3; k++)
            {
                double c = rows.Sum(r => (r[j] - mj) * (r[k] - rows.Average(s => s[k]))) / 49;
                Assert.Equal(c, covariance[j, k].item<double>(), 12);
            }
        }
    }

    [Fact]
    public void Kernel_distance_matches_plain_loops()
    {
        var (x, y) = (Normal(20, 5, 7), Normal(20, 5, 8, shift: 0.3));
        double[][] Rows(Tensor t) => [.. Enumerable.Range(0, 20).Select(i => t[i].data<double>().ToArray())];
        var (rx, ry) = (Rows(x), Rows(y));
        double K(double[] u, double[] v) => Math.Pow(u.Zip(v).Sum(p => p.First * p.Second) / 5 + 1, 3);
        double xx = 0,
            yy = 0,
            xy = 0;
        for (int i = 0; i < 20; i++)
        for (int j = 0; j < 20; j++)
        {
            xy += K(rx[i], ry[j]);
            if (i == j)
                continue;
            xx += K(rx[i], rx[j]);
            yy += K(ry[i], ry[j]);
        }
        double expected = (xx + yy) / (20 * 19) - 2 * xy / (20 * 20);
        Assert.Equal(expected, KernelDistance.UnbiasedMmd2(x, y), 10);
    }

    [Fact]
    public void Kernel_distance_of_two_halves_of_one_set_is_zero_and_unbiased()
    {
        var set = Normal(4000, 32, 9);
        var (kid, std) = KernelDistance.Compute(set[..2000], set[2000..], subsets: 20, subsetSize: 500, seed: 1);
        Assert.InRange(Math.Abs(kid), 0, 3 * std + 1e-3);
        // Unbiased: over many independent pairs of samples from one distribution, the estimates average to zero
        // (a biased estimate would sit clearly above it). Shifted sets show what a real difference looks like.
        var estimates = Enumerable
            .Range(0, 40)
            .Select(s => KernelDistance.UnbiasedMmd2(Normal(200, 32, 100 + s), Normal(200, 32, 200 + s)))
            .ToArray();
        double mean = estimates.Average();
        double stderr = Math.Sqrt(estimates.Sum(e => (e - mean) * (e - mean)) / (40 * 39));
        Assert.InRange(mean, -3 * stderr, 3 * stderr);
        double shifted = KernelDistance.Compute(set[..2000], Normal(2000, 32, 10, shift: 0.5), 20, 500, 1).Mean;
        Assert.True(shifted > 20 * (3 * stderr), $"shifted {shifted}, noise {stderr}");
    }

    [Fact]
    public void Identical_sets_have_precision_and_recall_of_one()
    {
        var set = Normal(300, 16, 11);
        Assert.Equal((1.0, 1.0), PrecisionRecall.Compute(set, set.clone()));
    }

    [Fact]
    public void A_collapsed_generator_has_recall_near_zero()
    {
        var real = Normal(500, 16, 12);
        // Every sample is the same image: realistic (it is a real one), but it covers nothing of the data.
        var collapsed = real[7].unsqueeze(0).expand(400, -1).contiguous();
        var (precision, recall) = PrecisionRecall.Compute(real, collapsed);
        Assert.Equal(1.0, precision);
        Assert.InRange(recall, 0, 0.01);
    }

    [Fact]
    public void Precision_and_recall_match_plain_loops()
    {
        var (real, fake) = (Normal(60, 4, 13), Normal(50, 4, 14, shift: 0.7));
        double[][] Rows(Tensor t) =>
            [.. Enumerable.Range(0, (int)t.shape[0]).Select(i => t[i].data<double>().ToArray())];
        var (r, f) = (Rows(real), Rows(fake));
        double Distance(double[] u, double[] v) =>
            Math.Sqrt(u.Zip(v).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
        double[] Radii(double[][] set) => [.. set.Select(u => set.Select(v => Distance(u, v)).Order().ElementAt(3))];
        double Share(double[][] centres, double[] radii, double[][] queries) =>
            queries.Count(q => centres.Select((c, i) => Distance(q, c) <= radii[i]).Any(b => b))
            / (double)queries.Length;
        var (precision, recall) = PrecisionRecall.Compute(real, fake);
        Assert.Equal(Share(r, Radii(r), f), precision, 12);
        Assert.Equal(Share(f, Radii(f), r), recall, 12);
    }
}
