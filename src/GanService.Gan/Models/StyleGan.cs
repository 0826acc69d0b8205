using GanService.Gan.Cpu;
using GanService.Gan.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>
/// A StyleGAN2 convolution: the style (an affine map of w, bias 1) scales the weight's input channels per sample;
/// demodulation rescales each output channel's weights to unit norm, replacing AdaIN's instance normalisation.
/// </summary>
/// <remarks>
/// Runs as StyleGAN2's unfused form: the input scaled by the style, one convolution with the shared weight, the output
/// scaled by the demodulation factors; the same function as a grouped convolution with the per-sample weights
/// (<see cref="Weights"/>). The grouped form (one group per sample) was the slower on CPUs, and each batch size was a
/// new convolution geometry, which a CPU whose oneDNN is checked per geometry (<see cref="Convolutions"/>) had to
/// check again (docs/benchmarks.md).
/// </remarks>
public sealed class ModulatedConv2d : Module<Tensor, Tensor, Tensor>, ISelfInitializing
{
    private readonly Parameter weight;
    private readonly EqualizedLinear affine;
    private readonly double scale;
    private readonly long inChannels,
        outChannels,
        kernel;
    private readonly bool demodulate;

    public ModulatedConv2d(long inChannels, long outChannels, long kernel, long styleSize, bool demodulate = true)
        : base("modulated_conv2d")
    {
        weight = Parameter(randn(outChannels, inChannels, kernel, kernel));
        affine = new EqualizedLinear(styleSize, inChannels, biasInit: 1);
        scale = 1 / Math.Sqrt(inChannels * kernel * kernel);
        (this.inChannels, this.outChannels, this.kernel, this.demodulate) = (
            inChannels,
            outChannels,
            kernel,
            demodulate
        );
        RegisterComponents();
    }

    public void Initialize(torch.Generator rng) => weight.normal_(0, 1, rng);

    /// <summary>The per-sample weights [N, out, in, k, k] for styles from w [N, styleSize].</summary>
    public Tensor Weights(Tensor w)
    {
        var style = affine.call(w).reshape(-1, 1, inChannels, 1, 1);
        var modulated = weight.unsqueeze(0) * scale * style;
        return demodulate ? modulated * (modulated.square().sum([2, 3, 4], keepdim: true) + 1e-8).rsqrt() : modulated;
    }

    public override Tensor forward(Tensor x, Tensor w)
    {
        var style = affine.call(w); // [N, in]
        var y = Ops.Conv2d(x * style.reshape(-1, inChannels, 1, 1), weight * scale, null, padding: kernel / 2);
        if (!demodulate)
            return y;
        // Each sample's squared weight norm per output channel: sum over inputs of style^2 times the weight's squares.
        var squares = weight.square().sum([2, 3]) * (scale * scale); // [out, in]
        var factors = (style.square().matmul(squares.t()) + 1e-8).rsqrt(); // [N, out]
        return y * factors.reshape(-1, outChannels, 1, 1);
    }
}

/// <summary>
/// How a style layer draws its noise: fresh from a generator, or the fixed map stored with the network.
/// </summary>
public enum NoiseMode
{
    Random,
    Constant,
}

/// <summary>
/// A modulated 3x3 convolution (optionally after 2x upsampling), per-pixel noise with a learned strength,
/// bias, LeakyReLU.
/// </summary>
public sealed class StyleLayer : Module, ISelfInitializing
{
    private readonly ModulatedConv2d conv;
    private readonly Parameter noiseStrength,
        bias;
    private readonly Tensor noiseConst;
    private readonly bool upsample;
    private readonly int resolution;

    public StyleLayer(long inChannels, long outChannels, long styleSize, int resolution, bool upsample)
        : base("style_layer")
    {
        conv = new ModulatedConv2d(inChannels, outChannels, 3, styleSize);
        noiseStrength = Parameter(zeros(1));
        bias = Parameter(zeros(1, outChannels, 1, 1));
        noiseConst = randn(1, 1, resolution, resolution);
        (this.upsample, this.resolution) = (upsample, resolution);
        RegisterComponents();
    }

    public void Initialize(torch.Generator rng)
    {
        noiseStrength.zero_();
        bias.zero_();
        noiseConst.normal_(0, 1, rng);
    }

    public Tensor Forward(Tensor x, Tensor w, NoiseMode noise, torch.Generator? rng)
    {
        if (upsample)
            x = functional.interpolate(x, scale_factor: [2, 2], mode: InterpolationMode.Bilinear, align_corners: false);
        var y = conv.call(x, w);
        var map =
            noise == NoiseMode.Random && rng is not null
                ? randn([y.shape[0], 1, resolution, resolution], generator: rng).to(y.device)
                : noiseConst;
        return functional.leaky_relu(y + noiseStrength * map + bias, 0.2) * Math.Sqrt(2);
    }
}

/// <summary>StyleGAN's learned constant 4x4 input.</summary>
public sealed class ConstantInput : Module, ISelfInitializing
{
    private readonly Parameter constant;

    public ConstantInput(long channels)
        : base("constant_input")
    {
        constant = Parameter(randn(1, channels, 4, 4));
        RegisterComponents();
    }

    public void Initialize(torch.Generator rng) => constant.normal_(0, 1, rng);

    public Tensor Expand(long n) => constant.expand(n, -1, -1, -1);
}

/// <summary>
/// StyleGAN2 generator at a CPU-friendly size: a mapping network (pixel norm, then fully connected layers with a
/// 0.01 learning-rate multiplier) from z to w; a learned constant; per resolution two style layers and a toRGB
/// (modulated 1x1, not demodulated) summed into an upsampled skip image. Each layer reads its own w, so styles can be
/// mixed per layer; training mixes two latents' styles with probability <see cref="ModelRecipe.StyleMixing"/>. The
/// running average of w (a buffer) is the centre that truncation pulls toward.
/// </summary>
public sealed class StyleGenerator : Module<Tensor, Tensor>
{
    private const double WAverageBeta = 0.995;

    /// <summary>The mapping network's learning-rate multiplier, which its equalized scaling includes.</summary>
    public const double MappingLrMultiplier = 0.01;
    private readonly Sequential mapping;
    private readonly ConstantInput input;
    private readonly ModuleList<StyleLayer> layers = new();
    private readonly ModuleList<ModulatedConv2d> toRgb = new();
    private readonly Tensor wAverage;
    private readonly long styleSize;
    private readonly double mixing;

    public StyleGenerator(ModelRecipe recipe)
        : base("style_generator")
    {
        styleSize = recipe.LatentSize;
        mixing = recipe.StyleMixing;
        var map = new List<Module<Tensor, Tensor>> { new PixelNorm() };
        for (int i = 0; i < recipe.MappingLayers; i++)
        {
            map.Add(new EqualizedLinear(styleSize, styleSize, lrMultiplier: MappingLrMultiplier));
            map.Add(LeakyReLU(0.2));
        }
        mapping = Sequential(map);
        var resolutions = Widths.Resolutions(recipe.ImageSize);
        long c4 = Widths.At(4, recipe.Width);
        input = new ConstantInput(c4);
        layers.append(new StyleLayer(c4, c4, styleSize, 4, upsample: false));
        toRgb.append(new ModulatedConv2d(c4, recipe.Channels, 1, styleSize, demodulate: false));
        for (int i = 1; i < resolutions.Count; i++)
        {
            long from = Widths.At(resolutions[i - 1], recipe.Width),
                to = Widths.At(resolutions[i], recipe.Width);
            layers.append(new StyleLayer(from, to, styleSize, resolutions[i], upsample: true));
            layers.append(new StyleLayer(to, to, styleSize, resolutions[i], upsample: false));
            toRgb.append(new ModulatedConv2d(to, recipe.Channels, 1, styleSize, demodulate: false));
        }
        wAverage = zeros(styleSize);
        RegisterComponents();
    }

    /// <summary>The number of w inputs: one per style layer, toRGBs reading the next layer's.</summary>
    public int StyleCount => layers.Count + 1;

    /// <summary>
    /// The generator the training forward draws its noise and mixing from; unset, it uses constant noise and no mixing.
    /// </summary>
    public torch.Generator? Rng { get; set; }

    public Tensor AverageW => wAverage;

    public Tensor Map(Tensor z) => mapping.call(z);

    /// <summary>Images from per-layer styles ws [N, StyleCount, styleSize].</summary>
    public Tensor Synthesize(Tensor ws, NoiseMode noise, torch.Generator? rng)
    {
        var x = layers[0].Forward(input.Expand(ws.shape[0]), ws[.., 0], noise, rng);
        var image = toRgb[0].call(x, ws[.., 1]);
        for (int block = 1; block < toRgb.Count; block++)
        {
            int first = 2 * block - 1;
            x = layers[first].Forward(x, ws[.., first], noise, rng);
            x = layers[first + 1].Forward(x, ws[.., first + 1], noise, rng);
            image =
                functional.interpolate(
                    image,
                    scale_factor: [2, 2],
                    mode: InterpolationMode.Bilinear,
                    align_corners: false
                ) + toRgb[block].call(x, ws[.., first + 2]);
        }
        return image;
    }

    /// <summary>w broadcast to every layer [N, StyleCount, styleSize].</summary>
    public Tensor Broadcast(Tensor w) => w.unsqueeze(1).expand(-1, StyleCount, -1);

    public override Tensor forward(Tensor z)
    {
        var w = Map(z);
        if (!training || Rng is null)
            return Synthesize(Broadcast(w), NoiseMode.Constant, null);
        using (no_grad())
            wAverage.lerp_(w.detach().mean([0]), 1 - WAverageBeta);
        var ws = Broadcast(w);
        if (mixing > 0 && rand([1], generator: Rng).item<float>() < mixing)
        {
            int cutoff = (int)randint(1, StyleCount, [1], generator: Rng).item<long>();
            var other = Broadcast(Map(randn(z.shape, generator: Rng).to(z.device)));
            ws = cat([ws[.., ..cutoff], other[.., cutoff..]], 1);
        }
        return Synthesize(ws, NoiseMode.Random, Rng);
    }
}
