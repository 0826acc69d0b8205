using System.Runtime.CompilerServices;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Convolution = TorchSharp.Modules.Conv2d;

namespace GanService.Gan.Cpu;

/// <summary>
/// What the networks call to run their layers: they describe the layers as <see cref="Sequential"/> stacks, and this
/// runs them on the CPU fast paths where those apply and as libtorch's own layers otherwise, so that a network file
/// never sees a kernel. The switches are <see cref="FastPaths"/>; see docs/performance.md, CPU fast paths.
/// </summary>
public static class Ops
{
    /// <summary>
    /// Runs a stack with every fast path: the input, or a tensor a layer first makes 4-D, channels-last; Conv2d
    /// through <see cref="NarrowInputLayer"/> and ConvTranspose2d through <see cref="NarrowOutputLayer"/> (both
    /// fall back to <see cref="Convolutions"/>); BatchNorm2d and the LeakyReLU after it as one
    /// <see cref="BatchNormLeakyReLU"/>; a LeakyReLU after a convolution in place; a Flatten of a map in memory order,
    /// so a dense layer after the stack reads its weights through <see cref="InFeatureOrder"/>; any other layer as
    /// itself.
    /// </summary>
    /// <remarks><paramref name="groups"/>: the equal batches in <paramref name="x"/>, each normalised alone.</remarks>
    public static Tensor Run(Sequential stack, Tensor x, int groups = 1)
    {
        var layers = Layers(stack);
        var h = x.dim() == 4 ? ToChannelsLast(x) : x;
        for (int i = 0; i < layers.Length; i++)
        {
            // A convolution's output is read by nothing but the next layer, and its backward keeps none of it.
            bool afterConvolution = i > 0 && IsConvolution(layers[i - 1]);
            switch (layers[i])
            {
                case Convolution convolution:
                    h = NarrowInputLayer.Apply(convolution, h);
                    break;
                case ConvTranspose2d transposed:
                    h = NarrowOutputLayer.Apply(transposed, h);
                    break;
                case BatchNorm2d norm when i + 1 < layers.Length && layers[i + 1] is LeakyReLU activation:
                    h = BatchNormLeakyReLU.Apply(
                        norm,
                        h,
                        activation.negative_slope,
                        groups,
                        scratchInput: afterConvolution
                    );
                    i++;
                    break;
                // Not under a gradient penalty, whose second derivatives this path is not tested for.
                case LeakyReLU activation:
                    bool inPlace = afterConvolution && FastPaths.Current.InPlace && !SecondOrder.Active;
                    h = nn.functional.leaky_relu(h, activation.negative_slope, inplace: inPlace);
                    break;
                case Flatten flatten when h.dim() == 4 && flatten.start_dim == 1 && flatten.end_dim == -1:
                    h = InMemoryOrder(h);
                    break;
                default:
                    var input = h;
                    h = ((nn.Module<Tensor, Tensor>)layers[i]).call(h);
                    if (h.dim() == 4 && input.dim() != 4)
                        h = ChannelsLast.Of(h);
                    break;
            }
        }
        return h;
    }

    /// <summary>
    /// Runs a stack as libtorch's layers, only its convolutions routed around the ones libtorch gets wrong
    /// (<see cref="Convolutions"/>): for networks whose training no fast path has been checked against.
    /// </summary>
    public static Tensor RunUnfused(Sequential stack, Tensor x) =>
        stack
            .children()
            .Aggregate(x, (h, layer) => layer switch
                {
                    Convolution convolution => Convolutions.Call(convolution, h),
                    ConvTranspose2d transposed => Convolutions.Call(transposed, h),
                    Sequential nested => RunUnfused(nested, h),
                    _ => ((nn.Module<Tensor, Tensor>)layer).call(h),
                });

    /// <summary>A convolution of weights a network computes itself, through <see cref="Convolutions"/>.</summary>
    public static Tensor Conv2d(
        Tensor x,
        Tensor weight,
        Tensor? bias,
        long stride = 1,
        long padding = 0,
        long groups = 1
    ) => Convolutions.Conv2d(x, weight, bias, stride, padding, groups);

    /// <summary>
    /// A generator's images as its callers get them: in training channels-last, the layout the discriminator reads
    /// them in; in evaluation in the default layout, for callers that read the memory (PNG encoding).
    /// </summary>
    public static Tensor Output(Tensor images, bool training) =>
        training && FastPaths.Current.MemoryOrder ? images : ChannelsLast.Undo(images);

    /// <summary>Rows of weights over a flattened map, stored in channel-height-width order, in the order of
    /// <see cref="Run"/>'s flatten.</summary>
    public static Tensor InFeatureOrder(Tensor rows, long channels, long height, long width) =>
        FastPaths.Current.MemoryOrder
            ? rows.view(rows.shape[0], channels, height, width).permute(0, 2, 3, 1).reshape(rows.shape[0], -1)
            : rows;

    /// <summary>Features <see cref="Run"/> flattened, back in the stored channel-height-width order.</summary>
    public static Tensor ToStoredOrder(Tensor features, long channels, long height, long width) =>
        FastPaths.Current.MemoryOrder
            ? features
                .view(features.shape[0], height, width, channels)
                .permute(0, 3, 1, 2)
                .reshape(features.shape[0], -1)
            : features;

    private static readonly ConditionalWeakTable<Sequential, nn.Module[]> Stacks = new();

    /// <summary>A stack's layers, read once: the networks build their stacks whole and never change them.</summary>
    private static nn.Module[] Layers(Sequential stack) => Stacks.GetValue(stack, s => s.children().ToArray());

    /// <summary>
    /// A map flattened per image in height-width-channel order, the order of a channels-last map's memory: flattened in
    /// channel-height-width order, as checkpoints lay out the weights that read it, it would be copied in every pass.
    /// The weights are reordered instead (<see cref="InFeatureOrder"/>), a weight row's size, not a batch's.
    /// </summary>
    private static Tensor InMemoryOrder(Tensor map) =>
        FastPaths.Current.MemoryOrder ? map.permute(0, 2, 3, 1).reshape(map.shape[0], -1) : map.flatten(1);

    private static bool IsConvolution(nn.Module layer) => layer is Convolution or ConvTranspose2d or IConvolution;

    /// <summary>The tensor itself where it is channels-last already, else its channels-last copy.</summary>
    private static Tensor ToChannelsLast(Tensor x)
    {
        using var rows = x.permute(0, 2, 3, 1);
        return rows.is_contiguous() ? x : ChannelsLast.Of(x);
    }
}

/// <summary>
/// A network's own convolution layer (spectrally normalised, say): like libtorch's, its output is a new tensor its
/// backward does not keep, so <see cref="Ops.Run"/> may let the layer after it overwrite that output.
/// </summary>
public interface IConvolution;
