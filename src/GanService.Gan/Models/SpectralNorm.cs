using GanService.Gan.Cpu;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>
/// Spectral normalisation (Miyato et al. 2018), which TorchSharp lacks: the weight is divided by an estimate of its
/// largest singular value, refined by one power iteration per training forward. The estimate vector u is a buffer,
/// so it travels in checkpoints.
/// </summary>
public static class SpectralNorm
{
    public static Tensor Normalize(Tensor weight, Tensor u, bool training)
    {
        var matrix = weight.flatten(1);
        Tensor v;
        using (no_grad())
        {
            v = nn.functional.normalize(matrix.t().mv(u), dim: 0, eps: 1e-12);
            if (training)
            {
                u.copy_(nn.functional.normalize(matrix.mv(v), dim: 0, eps: 1e-12));
                v = nn.functional.normalize(matrix.t().mv(u), dim: 0, eps: 1e-12);
            }
        }
        // Copies: a second forward in the same step updates u in place, which must not touch this one's graph.
        var sigma = u.clone().dot(matrix.mv(v.clone()));
        return weight / sigma;
    }

    /// <summary>The current estimate of the largest singular value.</summary>
    public static double Sigma(Tensor weight, Tensor u)
    {
        using var _ = no_grad();
        var matrix = weight.flatten(1);
        var v = nn.functional.normalize(matrix.t().mv(u), dim: 0, eps: 1e-12);
        return u.dot(matrix.mv(v)).item<float>();
    }

    internal static Tensor InitialU(long rows) => nn.functional.normalize(randn(rows), dim: 0, eps: 1e-12);

    internal static void Reset(Tensor u, torch.Generator rng)
    {
        using var _ = no_grad();
        u.copy_(nn.functional.normalize(randn([u.shape[0]], generator: rng), dim: 0, eps: 1e-12));
    }
}

/// <summary>A layer with state of its own to draw from the run's generator when it is initialised.</summary>
public interface ISeededState
{
    void Reset(torch.Generator rng);
}

/// <summary>A 2-d convolution whose weight is spectrally normalised.</summary>
public sealed class SpectralConv2d : Module<Tensor, Tensor>, ISeededState, IConvolution
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor u;
    private readonly long stride,
        padding;

    public SpectralConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0)
        : base("spectral_conv2d")
    {
        weight = Parameter(randn(outChannels, inChannels, kernel, kernel) * 0.02);
        bias = Parameter(zeros(outChannels));
        u = SpectralNorm.InitialU(outChannels);
        this.stride = stride;
        this.padding = padding;
        RegisterComponents();
    }

    public Tensor U => u;
    public Tensor Weight => weight;

    public void Reset(torch.Generator rng) => SpectralNorm.Reset(u, rng);

    public override Tensor forward(Tensor input) =>
        Ops.Conv2d(input, SpectralNorm.Normalize(weight, u, training), bias, stride, padding);
}

/// <summary>A dense layer whose weight is spectrally normalised.</summary>
public sealed class SpectralLinear : Module<Tensor, Tensor>, ISeededState
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor u;

    public SpectralLinear(long inFeatures, long outFeatures)
        : base("spectral_linear")
    {
        weight = Parameter(randn(outFeatures, inFeatures) * 0.02);
        bias = Parameter(zeros(outFeatures));
        u = SpectralNorm.InitialU(outFeatures);
        RegisterComponents();
    }

    public void Reset(torch.Generator rng) => SpectralNorm.Reset(u, rng);

    public override Tensor forward(Tensor input) =>
        nn.functional.linear(input, SpectralNorm.Normalize(weight, u, training), bias);
}
