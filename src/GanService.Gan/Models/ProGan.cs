using GanService.Gan.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>A network that grows: it runs at a stage's resolution, fading the newest block in by alpha.</summary>
public interface IProgressive
{
    void SetStage(int resolution, double alpha);
    (int Resolution, double Alpha) Stage { get; }
}

/// <summary>
/// The stage as buffers, so that checkpoints (and the EMA copy) carry the resolution and alpha they were taken at.
/// </summary>
internal sealed class StageState
{
    private readonly Tensor resolution = tensor(4L),
        alpha = tensor(1.0);

    public void Register(Module owner)
    {
        owner.register_buffer("stage_resolution", resolution);
        owner.register_buffer("stage_alpha", alpha);
    }

    public void Set(int r, double a)
    {
        resolution.fill_(r);
        alpha.fill_(a);
    }

    public (int Resolution, double Alpha) Value => ((int)resolution.item<long>(), alpha.item<double>());
}

/// <summary>
/// Progressive Growing GAN generator (Karras et al. 2018): z, pixel-normalised, becomes a 4x4 map; each block doubles
/// the resolution (nearest upsampling, two 3x3 convolutions, LeakyReLU 0.2, pixel norm); every resolution has its own
/// 1x1 toRGB. While a block fades in, the output is (1 - alpha) * upsampled previous toRGB + alpha * new toRGB.
/// Equalized learning rate throughout; a linear output, as the paper has.
/// </summary>
public sealed class ProGanGenerator : Module<Tensor, Tensor>, IProgressive
{
    private readonly EqualizedLinear input;
    private readonly EqualizedConv2d inputConv;
    private readonly ModuleList<Sequential> blocks = new();
    private readonly ModuleList<EqualizedConv2d> toRgb = new();
    private readonly StageState stage = new();
    private readonly long baseChannels;

    public ProGanGenerator(ModelRecipe recipe)
        : base("progan_generator")
    {
        var resolutions = Widths.Resolutions(recipe.ImageSize);
        baseChannels = Widths.At(4, recipe.Width);
        input = new EqualizedLinear(recipe.LatentSize, baseChannels * 16);
        inputConv = new EqualizedConv2d(baseChannels, baseChannels, 3);
        toRgb.append(new EqualizedConv2d(baseChannels, recipe.Channels, 1));
        for (int i = 1; i < resolutions.Count; i++)
        {
            long from = Widths.At(resolutions[i - 1], recipe.Width),
                to = Widths.At(resolutions[i], recipe.Width);
            blocks.append(
                Sequential(
                    Upsample(scale_factor: [2, 2], mode: UpsampleMode.Nearest),
                    new EqualizedConv2d(from, to, 3),
                    LeakyReLU(0.2),
                    new PixelNorm(),
                    new EqualizedConv2d(to, to, 3),
                    LeakyReLU(0.2),
                    new PixelNorm()
                )
            );
            toRgb.append(new EqualizedConv2d(to, recipe.Channels, 1));
        }
        RegisterComponents();
        stage.Register(this);
        SetStage(recipe.ImageSize, 1);
    }

    public (int Resolution, double Alpha) Stage => stage.Value;

    public void SetStage(int resolution, double alpha) => stage.Set(resolution, alpha);

    public override Tensor forward(Tensor z)
    {
        var (resolution, alpha) = Stage;
        int depth = (int)Math.Log2(resolution / 4);
        var x = functional.leaky_relu(input.call(PixelNorm.Normalize(z)).reshape(-1, baseChannels, 4, 4), 0.2);
        x = PixelNorm.Normalize(functional.leaky_relu(inputConv.call(PixelNorm.Normalize(x)), 0.2));
        Tensor? previous = null;
        for (int i = 0; i < depth; i++)
        {
            previous = x;
            x = blocks[i].call(x);
        }
        var image = toRgb[depth].call(x);
        if (alpha >= 1 || previous is null)
            return image;
        var faded = functional.interpolate(
            toRgb[depth - 1].call(previous),
            scale_factor: [2, 2],
            mode: InterpolationMode.Nearest
        );
        return faded.lerp(image, alpha);
    }
}

/// <summary>
/// The discriminator of the progressive and style families: per-resolution 1x1 fromRGB, blocks of two 3x3
/// convolutions with 2x average pooling (residual, scaled by 1/sqrt 2, for StyleGAN2), then minibatch standard
/// deviation, a 3x3 convolution and two dense layers at 4x4. Growing, the new block's path is blended with the
/// downsampled image through the previous fromRGB by alpha.
/// </summary>
public sealed class EqualizedDiscriminator : Module<Tensor, Tensor>, IProgressive
{
    private readonly ModuleList<EqualizedConv2d> fromRgb = new();
    private readonly ModuleList<Sequential> blocks = new();
    private readonly ModuleList<EqualizedConv2d> skips = new();
    private readonly Sequential head;
    private readonly StageState stage = new();
    private readonly bool residual;

    public EqualizedDiscriminator(ModelRecipe recipe, bool residual)
        : base("equalized_discriminator")
    {
        this.residual = residual;
        var resolutions = Widths.Resolutions(recipe.ImageSize);
        // Index i works at resolutions[i]: block i takes it down to resolutions[i - 1].
        foreach (var r in resolutions)
            fromRgb.append(new EqualizedConv2d(recipe.Channels, Widths.At(r, recipe.Width), 1));
        for (int i = 1; i < resolutions.Count; i++)
        {
            long from = Widths.At(resolutions[i], recipe.Width),
                to = Widths.At(resolutions[i - 1], recipe.Width);
            blocks.append(
                Sequential(
                    new EqualizedConv2d(from, from, 3),
                    LeakyReLU(0.2),
                    new EqualizedConv2d(from, to, 3),
                    LeakyReLU(0.2),
                    AvgPool2d(2)
                )
            );
            skips.append(new EqualizedConv2d(from, to, 1));
        }
        long c = Widths.At(4, recipe.Width);
        head = Sequential(
            new MinibatchStdDev(),
            new EqualizedConv2d(c + 1, c, 3),
            LeakyReLU(0.2),
            Flatten(),
            new EqualizedLinear(c * 16, c),
            LeakyReLU(0.2),
            new EqualizedLinear(c, 1)
        );
        RegisterComponents();
        stage.Register(this);
        SetStage(recipe.ImageSize, 1);
    }

    public (int Resolution, double Alpha) Stage => stage.Value;

    public void SetStage(int resolution, double alpha) => stage.Set(resolution, alpha);

    public override Tensor forward(Tensor images)
    {
        var (resolution, alpha) = Stage;
        int depth = (int)Math.Log2(resolution / 4);
        var x = functional.leaky_relu(fromRgb[depth].call(images), 0.2);
        for (int i = depth; i > 0; i--)
        {
            var down = blocks[i - 1].call(x);
            if (residual)
                down = (down + functional.avg_pool2d(skips[i - 1].call(x), 2)) / Math.Sqrt(2);
            if (i == depth && alpha < 1)
                down = functional
                    .leaky_relu(fromRgb[i - 1].call(functional.avg_pool2d(images, 2)), 0.2)
                    .lerp(down, alpha);
            x = down;
        }
        return head.call(x).squeeze(1);
    }
}
