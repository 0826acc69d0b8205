using GanService.Gan.Cpu;
using GanService.Gan.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>
/// The course's DCGAN generator: a dense projection of the latent to 64 x b x b, then stride-2 transposed
/// convolutions (7 -> 14 -> 28, or 4 -> ... -> 32 / 64) with batch norm and LeakyReLU(0.2), and a 3x3 output
/// layer with tanh. Extra channels widen the projected map for a conditioning input.
/// </summary>
public sealed class DcganGenerator : Module<Tensor, Tensor>
{
    public const int Filters = 64;
    public const double Slope = 0.2;
    private readonly Sequential project;
    private readonly Sequential upsample;
    private readonly Sequential output;
    // Delegates, not module fields: RegisterComponents would register the layers a second time, under new
    // checkpoint names. Each block's batch norm and LeakyReLU run as one fused operation where they can.
    private readonly Func<Tensor, Tensor> projectLayers, upsampleLayers, outputLayer;

    public DcganGenerator(ModelRecipe recipe, int extraChannels = 0) : base("dcgan_generator")
    {
        var (baseSize, blocks) = Dcgan.Geometry(recipe.ImageSize);
        var dense = Linear(recipe.LatentSize, Filters * baseSize * baseSize, hasBias: false);
        var unflatten = Unflatten(1, [Filters, baseSize, baseSize]);
        var projectNorm = BatchNorm2d(Filters);
        project = Sequential(dense, unflatten, projectNorm, LeakyReLU(Slope));
        projectLayers = z => BatchNormLeakyReLU.Apply(projectNorm, ChannelsLast.Of(unflatten.call(dense.call(z))), Slope);
        upsample = Sequential();
        var steps = new List<Func<Tensor, Tensor>>();
        for (int i = 0; i < blocks; i++)
        {
            var up = ConvTranspose2d(Filters + (i == 0 ? extraChannels : 0), Filters, kernel_size: 4, stride: 2, padding: 1, bias: false);
            var norm = BatchNorm2d(Filters);
            upsample.append(up);
            upsample.append(norm);
            upsample.append(LeakyReLU(Slope));
            steps.Add(x => BatchNormLeakyReLU.Apply(norm, Convolutions.Call(up, x), Slope, scratchInput: true));
        }
        upsampleLayers = x => steps.Aggregate(x, (h, step) => step(h));
        // A stride-1 3x3 transposed convolution is the same function as a 3x3 convolution with a flipped kernel.
        // It is used on purpose: libtorch-cpu 2.10's Conv2d computes a wrong (even NaN) input gradient when it has
        // fewer than 16 output channels, which is exactly this layer (NOTES.md; GradientCheckTests guard it).
        // Decode runs it through NarrowOutputLayer (oneDNN pads its 1 or 3 channels to 16); the Sequential stays for
        // the checkpoint names.
        var outputConvolution = ConvTranspose2d(Filters, recipe.Channels, kernel_size: 3, stride: 1, padding: 1);
        output = Sequential(outputConvolution, Tanh());
        outputLayer = x => NarrowOutputLayer.Apply(outputConvolution, x);
        RegisterComponents();
    }

    /// <summary>The latent projected to the first feature map, channels-last.</summary>
    public Tensor Project(Tensor latent) => projectLayers(latent);

    /// <summary>
    /// Images from the first feature map. In training they stay channels-last, the layout the discriminator reads
    /// them in (a copy each way saved, forward and backward); in eval they come out in the default layout, for
    /// callers that read the memory (PNG encoding).
    /// </summary>
    public Tensor Decode(Tensor features)
    {
        var images = outputLayer(upsampleLayers(ChannelsLast.Of(features))).tanh();
        return training && FastPaths.Current.MemoryOrder ? images : ChannelsLast.Undo(images);
    }

    public override Tensor forward(Tensor latent) => Decode(Project(latent));
}

/// <summary>
/// The course's DCGAN discriminator: stride-2 3x3 convolutions with 64 filters (28 -> 14 -> 7, or down to 4),
/// batch norm and LeakyReLU(0.2), then a dense layer returning one logit per image. With normalisation
/// <c>none</c> it is a WGAN-GP critic (batch norm would couple the per-sample gradients the penalty needs);
/// with <c>spectral</c> every layer is spectrally normalised instead.
/// </summary>
public sealed class DcganDiscriminator : Module<Tensor, Tensor>, IGroupedDiscriminator
{
    private readonly Sequential features;
    private readonly Module<Tensor, Tensor> classifier;
    // The same layers as features holds, in a delegate RegisterComponents does not see: Features runs the first
    // through NarrowInputLayer and each batch norm with its LeakyReLU as one fused operation, where they can.
    private readonly Func<Tensor, int, Tensor> layers;

    public DcganDiscriminator(ModelRecipe recipe, int extraChannels = 0) : base("dcgan_discriminator")
    {
        var (finalSize, blocks) = Dcgan.Geometry(recipe.ImageSize);
        const int F = DcganGenerator.Filters;
        bool spectral = recipe.Normalization == ModelRecipe.SpectralNorm;
        features = Sequential();
        for (int i = 0; i < blocks; i++)
        {
            long inChannels = i == 0 ? recipe.Channels + extraChannels : F;
            features.append(spectral
                ? new SpectralConv2d(inChannels, F, 3, stride: 2, padding: 1)
                : Conv2d(inChannels, F, kernel_size: 3, stride: 2, padding: 1));
            // No batch norm on the input block: the DCGAN paper found it destabilises training there.
            if (i > 0 && recipe.Normalization == ModelRecipe.BatchNorm) features.append(BatchNorm2d(F));
            features.append(LeakyReLU(DcganGenerator.Slope));
        }
        // Registered for the checkpoint's layer names; Features flattens in memory order instead (see there).
        features.append(Flatten());
        layers = Chain(features.children().Cast<Module<Tensor, Tensor>>().SkipLast(1).ToArray());
        this.finalSize = finalSize;
        // Spectral norm advances its power iteration once per call: one call for two batches would change the run.
        Groupable = !spectral;
        FeatureSize = F * finalSize * finalSize;
        classifier = spectral ? new SpectralLinear(F * finalSize * finalSize, 1) : Linear(F * finalSize * finalSize, 1);
        RegisterComponents();
    }

    private static Func<Tensor, int, Tensor> Chain(Module<Tensor, Tensor>[] chain)
    {
        var steps = new List<Func<Tensor, int, Tensor>>();
        for (int i = 0; i < chain.Length; i++)
        {
            var layer = chain[i];
            if (i == 0 && layer is Conv2d first) steps.Add((x, _) => NarrowInputLayer.Apply(first, x));
            else if (layer is Conv2d convolution) steps.Add((x, _) => Convolutions.Call(convolution, x));
            else if (layer is BatchNorm2d norm && i + 1 < chain.Length && chain[i + 1] is LeakyReLU)
            {
                bool afterConvolution = i > 0 && chain[i - 1] is Conv2d; // its output, read by nothing else
                steps.Add((x, groups) => BatchNormLeakyReLU.Apply(norm, x, DcganGenerator.Slope, groups, scratchInput: afterConvolution));
                i++;
            }
            // In place: the convolution before it keeps nothing of its output for the backward pass, so the activation
            // may overwrite it and a new 6.4 MB buffer a pass (D's update, 28x28) is saved. Not under a gradient
            // penalty, whose second derivatives this path is not tested for.
            else if (layer is LeakyReLU)
                steps.Add((x, _) => nn.functional.leaky_relu(x, DcganGenerator.Slope, inplace: FastPaths.Current.InPlace && !SecondOrder.Active));
            else steps.Add((x, _) => layer.call(x));
        }
        return (x, groups) => steps.Aggregate(x, (h, step) => step(h, groups));
    }

    /// <summary>
    /// The flattened features the final dense layer reads, in height-width-channel order: the last feature map is
    /// channels-last, and flattening it in channel-height-width order (as the checkpoint's weights are laid out)
    /// would copy it in every pass, forward and backward. The weights that read them are reordered instead
    /// (<see cref="InFeatureOrder"/>), which costs the size of a weight row, not of a batch.
    /// </summary>
    /// <remarks><paramref name="groups"/>: see <see cref="IGroupedDiscriminator"/>.</remarks>
    public Tensor Features(Tensor images, int groups = 1)
    {
        var map = layers(ChannelsLast.Of(images), groups);
        return !FastPaths.Current.MemoryOrder ? map.flatten(1) : map.permute(0, 2, 3, 1).reshape(map.shape[0], -1);
    }

    public Tensor Classify(Tensor features) => (classifier is Linear linear
        ? functional.linear(features, InFeatureOrder(linear.weight), linear.bias)
        : classifier.call(ToStoredOrder(features))).squeeze(1);

    /// <summary>Rows of weights over the flattened features, stored in channel-height-width order, in the order of <see cref="Features"/>.</summary>
    public Tensor InFeatureOrder(Tensor rows) => !FastPaths.Current.MemoryOrder ? rows :
        rows.view(rows.shape[0], DcganGenerator.Filters, finalSize, finalSize).permute(0, 2, 3, 1).reshape(rows.shape[0], -1);

    private Tensor ToStoredOrder(Tensor features) => !FastPaths.Current.MemoryOrder ? features :
        features.view(features.shape[0], finalSize, finalSize, DcganGenerator.Filters).permute(0, 3, 1, 2).reshape(features.shape[0], -1);

    private readonly long finalSize;

    public long FeatureSize { get; }

    public bool Groupable { get; }

    public Tensor Call(Tensor images, Tensor? labels, int groups) => Classify(Features(images, groups));

    public override Tensor forward(Tensor images) => Classify(Features(images));
}

public static class Dcgan
{
    /// <summary>The smallest feature map and the number of stride-2 blocks for an image size.</summary>
    public static (int BaseSize, int Blocks) Geometry(int imageSize) => imageSize switch
    {
        28 => (7, 2),
        32 => (4, 3),
        64 => (4, 4),
        _ => throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "DCGAN supports 28, 32 and 64 pixel images."),
    };
}
