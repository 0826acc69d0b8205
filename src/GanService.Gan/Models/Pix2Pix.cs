using GanService.Gan.Cpu;
using GanService.Gan.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>
/// The pix2pix U-Net generator: stride-2 4x4 convolutions halve the image down to 1x1 (64 filters doubling to at
/// most 512; LeakyReLU 0.2, batch norm but on the first), transposed convolutions double it back (ReLU, batch norm),
/// each decoder block joined to its mirror encoder block by a skip connection, tanh out. The paper's decoder
/// dropout is left out: it drew from the global RNG, which would break exact resume, and the paper found it adds
/// little variety.
/// </summary>
public sealed class UNetGenerator : Module<Tensor, Tensor>
{
    private const int BaseFilters = 64,
        MaxFilters = 512;
    private readonly ModuleList<Module<Tensor, Tensor>> down = new();
    private readonly ModuleList<Module<Tensor, Tensor>> up = new();

    public UNetGenerator(ModelRecipe recipe)
        : base("unet_generator")
    {
        int depth = (int)Math.Log2(recipe.ImageSize);
        var widths = Enumerable.Range(0, depth).Select(Width).ToArray();
        for (int i = 0; i < depth; i++)
        {
            var block = Sequential(
                Conv2d(
                    i == 0 ? recipe.Channels : widths[i - 1],
                    widths[i],
                    kernel_size: 4,
                    stride: 2,
                    padding: 1,
                    bias: false
                )
            );
            // No batch norm at the input or at the 1x1 bottleneck: a single value per channel has no batch
            // statistics to speak of.
            if (i > 0 && i < depth - 1)
                block.append(BatchNorm2d(widths[i]));
            block.append(LeakyReLU(0.2));
            down.Add(block);
        }
        for (int i = depth - 1; i >= 1; i--)
        {
            long inChannels = i == depth - 1 ? widths[i] : widths[i] * 2;
            up.Add(
                Sequential(
                    ConvTranspose2d(inChannels, widths[i - 1], kernel_size: 4, stride: 2, padding: 1, bias: false),
                    BatchNorm2d(widths[i - 1]),
                    ReLU()
                )
            );
        }
        up.Add(
            Sequential(ConvTranspose2d(widths[0] * 2, recipe.Channels, kernel_size: 4, stride: 2, padding: 1), Tanh())
        );
        RegisterComponents();
    }

    /// <summary>The channels of encoder block <paramref name="i"/> (and of the decoder block mirroring it).</summary>
    public static int Width(int i) => Math.Min(BaseFilters << i, MaxFilters);

    public override Tensor forward(Tensor input)
    {
        var skips = new List<Tensor>();
        var x = input;
        foreach (var block in down)
        {
            x = Ops.RunUnfused((Sequential)block, x);
            skips.Add(x);
        }
        for (int i = 0; i < up.Count; i++)
        {
            if (i > 0)
                x = cat([x, skips[skips.Count - 1 - i]], 1);
            x = Ops.RunUnfused((Sequential)up[i], x);
        }
        return x;
    }
}

/// <summary>
/// The 70x70 PatchGAN discriminator: it scores overlapping patches of the (input, output) pair stacked as channels,
/// one logit per patch, so it judges local texture and leaves the global layout to the L1 term.
/// </summary>
public sealed class PatchDiscriminator : Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public PatchDiscriminator(long inChannels)
        : base("patch_discriminator")
    {
        layers = Sequential(
            Conv2d(inChannels, 64, kernel_size: 4, stride: 2, padding: 1),
            LeakyReLU(0.2),
            Conv2d(64, 128, kernel_size: 4, stride: 2, padding: 1, bias: false),
            BatchNorm2d(128),
            LeakyReLU(0.2),
            Conv2d(128, 256, kernel_size: 4, stride: 2, padding: 1, bias: false),
            BatchNorm2d(256),
            LeakyReLU(0.2),
            Conv2d(256, 512, kernel_size: 4, stride: 1, padding: 1, bias: false),
            BatchNorm2d(512),
            LeakyReLU(0.2),
            Conv2d(512, 1, kernel_size: 4, stride: 1, padding: 1)
        );
        RegisterComponents();
    }

    public override Tensor forward(Tensor pair) => Ops.RunUnfused(layers, pair);
}
