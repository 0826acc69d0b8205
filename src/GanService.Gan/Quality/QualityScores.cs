using static TorchSharp.torch;

namespace GanService.Gan.Quality;

/// <summary>
/// One evaluation of generated images against a dataset's real statistics: the Frechet distance in the feature
/// network's space (fd_resnet18, not comparable with published Inception FIDs), the kernel distance and its
/// standard deviation across subsets, precision and recall.
/// </summary>
public sealed record QualityScores(
    string Network,
    int Samples,
    double Fd,
    double Kid,
    double KidStd,
    double Precision,
    double Recall
)
{
    /// <summary>
    /// Scores for generated features [N, d] against <paramref name="real"/>. The kernel distance and the manifolds
    /// use the real subset kept in the statistics; <paramref name="seed"/> fixes the kernel distance's subsets.
    /// </summary>
    public static QualityScores Evaluate(RealStatistics real, Tensor fake, long seed = 0)
    {
        if (fake.dim() != 2 || fake.shape[1] != real.Dimensions)
            throw new ArgumentException($"Generated features must be [N, {real.Dimensions}].", nameof(fake));
        using var scope = NewDisposeScope();
        var (mean, covariance) = FrechetDistance.Moments(fake);
        double fd = FrechetDistance.Compute(real.MeanTensor(), real.CovarianceTensor(), mean, covariance);
        var subset = real.SubsetTensor();
        var (kid, kidStd) = KernelDistance.Compute(subset, fake, seed: seed);
        var (precision, recall) = PrecisionRecall.Compute(subset, fake);
        return new QualityScores(real.Network, (int)fake.shape[0], fd, kid, kidStd, precision, recall);
    }
}
