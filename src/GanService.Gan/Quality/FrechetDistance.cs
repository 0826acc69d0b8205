using static TorchSharp.torch;

namespace GanService.Gan.Quality;

/// <summary>
/// The Frechet distance between two Gaussians fitted to features, in float64:
/// |mu1 - mu2|^2 + tr(C1) + tr(C2) - 2 tr((C1 C2)^(1/2)). The trace of the square root is taken from the eigenvalues
/// of the symmetric C1^(1/2) C2 C1^(1/2), which has the same spectrum as C1 C2, so only symmetric
/// eigendecompositions are needed (docs/quality.md, "Metrics").
/// </summary>
public static class FrechetDistance
{
    /// <summary>The mean [d] and the unbiased covariance [d, d] of features [N, d], in float64.</summary>
    public static (Tensor Mean, Tensor Covariance) Moments(Tensor features)
    {
        if (features.dim() != 2 || features.shape[0] < 2)
            throw new ArgumentException("Moments need features [N, d] with N >= 2.", nameof(features));
        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        var covariance = centred.t().matmul(centred) / (x.shape[0] - 1);
        return (mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope());
    }

    /// <summary>The distance between the Gaussians of two feature sets.</summary>
    public static double Between(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var (meanA, covarianceA) = Moments(a);
        var (meanB, covarianceB) = Moments(b);
        return Compute(meanA, covarianceA, meanB, covarianceB);
    }

    public static double Compute(Tensor mean1, Tensor covariance1, Tensor mean2, Tensor covariance2)
    {
        using var scope = NewDisposeScope();
        var (m1, c1, m2, c2) = (
            mean1.to(ScalarType.Float64),
            covariance1.to(ScalarType.Float64),
            mean2.to(ScalarType.Float64),
            covariance2.to(ScalarType.Float64)
        );
        var root1 = SquareRoot(c1);
        var product = root1.matmul(c2).matmul(root1);
        // Eigenvalues a hair below zero are rounding of a positive semi-definite matrix.
        var traceRoot = linalg.eigvalsh(Symmetric(product)).clamp_min(0).sqrt().sum();
        var distance = (m1 - m2).square().sum() + c1.trace() + c2.trace() - 2 * traceRoot;
        return Math.Max(0, distance.item<double>());
    }

    /// <summary>The symmetric square root of a positive semi-definite matrix, by eigendecomposition.</summary>
    internal static Tensor SquareRoot(Tensor matrix)
    {
        var (values, vectors) = linalg.eigh(Symmetric(matrix));
        return (vectors * values.clamp_min(0).sqrt()).matmul(vectors.t());
    }

    private static Tensor Symmetric(Tensor matrix) => (matrix + matrix.t()) / 2;
}
