using static TorchSharp.torch;

namespace GanService.Gan.Quality;

/// <summary>
/// How far translations lie from their paired targets, gathered a chunk at a time: the L1 distance in the [-1, 1]
/// units generators work in (pix2pix's own L1 loss), and the PSNR in dB of pixels in [0, 1], both averaged over
/// images. An exact match's PSNR is capped at <see cref="MaxPsnr"/>, so the mean stays finite.
/// </summary>
internal sealed class PairedDistances
{
    /// <summary>The PSNR of a translation equal to its target (a mean squared error of 1e-10).</summary>
    public const double MaxPsnr = 100;

    private double l1Sum,
        psnrSum;

    public int Count { get; private set; }

    public double L1 => l1Sum / Count;

    public double Psnr => psnrSum / Count;

    /// <summary>Adds images [N, C, H, W] in [-1, 1] and their targets, of the same shape.</summary>
    public void Add(Tensor translated, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var difference = translated.cpu().to(ScalarType.Float64) - targets.cpu().to(ScalarType.Float64);
        l1Sum += difference.abs().mean([1, 2, 3]).sum().item<double>();
        // Halved, the difference is that of pixels in [0, 1].
        var mse = difference.div(2).square().mean([1, 2, 3]).clamp_min(Math.Pow(10, -MaxPsnr / 10));
        psnrSum += mse.log10().mul(-10).sum().item<double>();
        Count += (int)translated.shape[0];
    }
}
