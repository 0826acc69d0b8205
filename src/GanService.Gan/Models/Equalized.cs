using GanService.Gan.Cpu;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>A layer that initialises its own parameters from the run's generator instead of the DCGAN rule.</summary>
public interface ISelfInitializing
{
    void Initialize(torch.Generator rng);
}

/// <summary>
/// Equalized learning rate (Karras et al. 2018): weights are stored N(0, 1) and scaled by He's constant at run time,
/// so Adam's per-parameter step moves every layer at the same speed. A layer can be slowed
/// down further with a learning-rate multiplier (StyleGAN's mapping network uses 0.01).
/// </summary>
public sealed class EqualizedLinear : Module<Tensor, Tensor>, ISelfInitializing
{
    private readonly Parameter weight,
        bias;
    private readonly double scale,
        lrMultiplier,
        biasInit;

    public EqualizedLinear(long inFeatures, long outFeatures, double lrMultiplier = 1, double biasInit = 0)
        : base("equalized_linear")
    {
        weight = Parameter(randn(outFeatures, inFeatures));
        bias = Parameter(zeros(outFeatures));
        scale = lrMultiplier / Math.Sqrt(inFeatures);
        this.lrMultiplier = lrMultiplier;
        this.biasInit = biasInit;
        RegisterComponents();
    }

    public void Initialize(torch.Generator rng)
    {
        weight.normal_(0, 1 / lrMultiplier, rng);
        bias.fill_(biasInit / lrMultiplier);
    }

    public override Tensor forward(Tensor input) => functional.linear(input, weight * scale, bias * lrMultiplier);
}

/// <summary>A square convolution with equalized learning rate and "same" padding.</summary>
public sealed class EqualizedConv2d : Module<Tensor, Tensor>, ISelfInitializing
{
    private readonly Parameter weight,
        bias;
    private readonly double scale;
    private readonly long padding;

    public EqualizedConv2d(long inChannels, long outChannels, long kernel)
        : base("equalized_conv2d")
    {
        weight = Parameter(randn(outChannels, inChannels, kernel, kernel));
        bias = Parameter(zeros(outChannels));
        scale = 1 / Math.Sqrt(inChannels * kernel * kernel);
        padding = kernel / 2;
        RegisterComponents();
    }

    public void Initialize(torch.Generator rng)
    {
        weight.normal_(0, 1, rng);
        bias.zero_();
    }

    public override Tensor forward(Tensor input) => Ops.Conv2d(input, weight * scale, bias, padding: padding);
}

/// <summary>Pixelwise feature normalisation: each pixel's feature vector scaled to unit mean square.</summary>
public sealed class PixelNorm() : Module<Tensor, Tensor>("pixel_norm")
{
    public override Tensor forward(Tensor input) => Normalize(input);

    public static Tensor Normalize(Tensor input) => input * (input.square().mean([1], keepdim: true) + 1e-8).rsqrt();
}

/// <summary>
/// Minibatch standard deviation: one extra channel holding the mean standard deviation of every feature across a
/// group of samples, so the discriminator can see a collapsed batch.
/// </summary>
public sealed class MinibatchStdDev(int groupSize = 4) : Module<Tensor, Tensor>("minibatch_stddev")
{
    public override Tensor forward(Tensor input)
    {
        long n = input.shape[0],
            c = input.shape[1],
            h = input.shape[2],
            w = input.shape[3];
        long group = Math.Min(groupSize, n);
        while (n % group != 0)
            group--;
        var grouped = input.reshape(group, n / group, c, h, w);
        var std = (grouped.var(0, unbiased: false) + 1e-8).sqrt().mean([1, 2, 3]); // [n / group]
        var channel = std.reshape(1, n / group, 1, 1, 1).expand(group, n / group, 1, h, w).reshape(n, 1, h, w);
        return cat([input, channel], 1);
    }
}

/// <summary>Channel widths of the newer families: wide at low resolution, narrowing as the image grows.</summary>
public static class Widths
{
    public static long At(int resolution, int width) =>
        Math.Max(8, (long)(width * Math.Clamp(64.0 / resolution, 0.25, 4)));

    /// <summary>The resolutions from 4 up to <paramref name="imageSize"/>, doubling.</summary>
    public static IReadOnlyList<int> Resolutions(int imageSize)
    {
        var list = new List<int>();
        for (int r = 4; r <= imageSize; r *= 2)
            list.Add(r);
        return list;
    }
}
