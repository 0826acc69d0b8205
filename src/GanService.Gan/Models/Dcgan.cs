using GanService.Gan.Cpu;
using GanService.Gan.Training;
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

    public DcganGenerator(ModelRecipe recipe, int extraChannels = 0)
        : base("dcgan_generator")
    {
        var (baseSize, blocks) = Dcgan.Geometry(recipe.ImageSize);
        // z [B, latent] -> [B, 64, b, b]
        project = Sequential(
            Linear(recipe.LatentSize, Filters * baseSize * baseSize, hasBias: false),
            Unflatten(1, [Filters, baseSize, baseSize]),
            BatchNorm2d(Filters),
            LeakyReLU(Slope)
        );
        // [B, 64 (+ extra), b, b] -> [B, 64, 2^blocks b, 2^blocks b]
        upsample = Sequential();
        for (int i = 0; i < blocks; i++)
        {
            long inChannels = Filters + (i == 0 ? extraChannels : 0);
            upsample.append(ConvTranspose2d(inChannels, Filters, kernel_size: 4, stride: 2, padding: 1, bias: false));
            upsample.append(BatchNorm2d(Filters));
            upsample.append(LeakyReLU(Slope));
        }
        // -> [B, C, size, size] in [-1, 1]. A stride-1 3x3 transposed convolution is the same function as a 3x3
        // convolution with a flipped kernel, used since libtorch-cpu 2.10's Conv2d gets the input gradient wrong with
        // fewer than 16 output channels (DcganTests.Gradients_match_a_float64_reference guards it).
        output = Sequential(ConvTranspose2d(Filters, recipe.Channels, kernel_size: 3, stride: 1, padding: 1), Tanh());
        RegisterComponents();
    }

    /// <summary>The latent projected to the first feature map.</summary>
    public Tensor Project(Tensor latent) => Ops.Run(project, latent);

    /// <summary>Images from the first feature map, in the layout <see cref="Ops.Output"/> gives its callers.</summary>
    public Tensor Decode(Tensor features) => Ops.Output(Ops.Run(output, Ops.Run(upsample, features)), training);

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
    private const int F = DcganGenerator.Filters;
    private readonly Sequential features;
    private readonly Module<Tensor, Tensor> classifier;
    private readonly long finalSize;

    public DcganDiscriminator(ModelRecipe recipe, int extraChannels = 0)
        : base("dcgan_discriminator")
    {
        var (finalSize, blocks) = Dcgan.Geometry(recipe.ImageSize);
        bool spectral = recipe.Normalization == ModelRecipe.SpectralNorm;
        // [B, C, size, size] -> [B, 64, f, f]
        features = Sequential();
        for (int i = 0; i < blocks; i++)
        {
            long inChannels = i == 0 ? recipe.Channels + extraChannels : F;
            features.append(
                spectral
                    ? new SpectralConv2d(inChannels, F, 3, stride: 2, padding: 1)
                    : Conv2d(inChannels, F, kernel_size: 3, stride: 2, padding: 1)
            );
            // No batch norm on the input block: the DCGAN paper found it destabilises training there.
            if (i > 0 && recipe.Normalization == ModelRecipe.BatchNorm)
                features.append(BatchNorm2d(F));
            features.append(LeakyReLU(DcganGenerator.Slope));
        }
        features.append(Flatten()); // -> [B, 64 f f]
        this.finalSize = finalSize;
        // Spectral norm advances its power iteration once per call: one call for two batches would change the run.
        Groupable = !spectral;
        FeatureSize = F * finalSize * finalSize;
        // [B, 64 f f] -> [B, 1]
        classifier = spectral ? new SpectralLinear(FeatureSize, 1) : Linear(FeatureSize, 1);
        RegisterComponents();
    }

    /// <summary>The flattened features the dense layer reads, in the order <see cref="Ops.Run"/> flattens in.</summary>
    /// <remarks><paramref name="groups"/>: see <see cref="IGroupedDiscriminator"/>.</remarks>
    public Tensor Features(Tensor images, int groups = 1) => Ops.Run(features, images, groups);

    public Tensor Classify(Tensor features) =>
        (
            classifier is Linear linear
                ? functional.linear(features, InFeatureOrder(linear.weight), linear.bias)
                : classifier.call(Ops.ToStoredOrder(features, F, finalSize, finalSize))
        ).squeeze(1);

    /// <summary>Rows of weights over the flattened features, stored in the checkpoint's order, in that of
    /// <see cref="Features"/>.</summary>
    public Tensor InFeatureOrder(Tensor rows) => Ops.InFeatureOrder(rows, F, finalSize, finalSize);

    public long FeatureSize { get; }

    public bool Groupable { get; }

    public Tensor Call(Tensor images, Tensor? labels, int groups) => Classify(Features(images, groups));

    public override Tensor forward(Tensor images) => Classify(Features(images));
}

public static class Dcgan
{
    /// <summary>The smallest feature map and the number of stride-2 blocks for an image size.</summary>
    public static (int BaseSize, int Blocks) Geometry(int imageSize) =>
        imageSize switch
        {
            28 => (7, 2),
            32 => (4, 3),
            64 => (4, 4),
            _ => throw new ArgumentOutOfRangeException(
                nameof(imageSize),
                imageSize,
                "DCGAN supports 28, 32 and 64 pixel images."
            ),
        };
}
