using GanService.Gan.Cpu;
using GanService.Gan.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>
/// The CycleGAN ResNet generator: a 7x7 stem, two stride-2 downsamplings, residual blocks at a quarter of the size
/// (6 up to 128 pixels, 9 beyond), two upsamplings and a 7x7 tanh output; instance norm and reflection padding.
/// </summary>
public sealed class ResnetGenerator : Module<Tensor, Tensor>
{
    public const int Filters = 64;
    private readonly Sequential layers;

    public ResnetGenerator(ModelRecipe recipe)
        : base("resnet_generator")
    {
        const int F = Filters;
        int blocks = Blocks(recipe.ImageSize);
        layers = Sequential(
            ReflectionPad2d(3),
            Conv2d(recipe.Channels, F, kernel_size: 7, bias: false),
            InstanceNorm2d(F),
            ReLU(),
            Conv2d(F, 2 * F, kernel_size: 3, stride: 2, padding: 1, bias: false),
            InstanceNorm2d(2 * F),
            ReLU(),
            Conv2d(2 * F, 4 * F, kernel_size: 3, stride: 2, padding: 1, bias: false),
            InstanceNorm2d(4 * F),
            ReLU()
        );
        for (int i = 0; i < blocks; i++)
            layers.append(new ResidualBlock(4 * F));
        layers.append(
            ConvTranspose2d(4 * F, 2 * F, kernel_size: 3, stride: 2, padding: 1, output_padding: 1, bias: false)
        );
        layers.append(InstanceNorm2d(2 * F));
        layers.append(ReLU());
        layers.append(ConvTranspose2d(2 * F, F, kernel_size: 3, stride: 2, padding: 1, output_padding: 1, bias: false));
        layers.append(InstanceNorm2d(F));
        layers.append(ReLU());
        layers.append(ReflectionPad2d(3));
        // The 7x7 output convolution as the equivalent stride-1 transposed convolution (padding 6 undoes its growth):
        // libtorch-cpu 2.10's Conv2d input gradient is wrong with fewer than 16 output channels
        // (CycleGanTests.The_resnet_generator_keeps_the_size_and_its_gradients_match_float64 guards it).
        layers.append(ConvTranspose2d(F, recipe.Channels, kernel_size: 7, padding: 6));
        layers.append(Tanh());
        RegisterComponents();
    }

    /// <summary>Residual blocks at a quarter of the size: 6 up to 128 pixels, 9 beyond.</summary>
    public static int Blocks(int imageSize) => imageSize <= 128 ? 6 : 9;

    public override Tensor forward(Tensor input) => Ops.RunUnfused(layers, input);

    private sealed class ResidualBlock : Module<Tensor, Tensor>
    {
        private readonly Sequential body;

        public ResidualBlock(long channels)
            : base("residual_block")
        {
            body = Sequential(
                ReflectionPad2d(1),
                Conv2d(channels, channels, kernel_size: 3, bias: false),
                InstanceNorm2d(channels),
                ReLU(),
                ReflectionPad2d(1),
                Conv2d(channels, channels, kernel_size: 3, bias: false),
                InstanceNorm2d(channels)
            );
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => x + Ops.RunUnfused(body, x);
    }
}

/// <summary>
/// A pool of past fakes (Shrivastava et al. 2017), 50 per domain as in CycleGAN: the discriminator sees, for each
/// new fake, with probability 1/2 an older one in its place, which damps oscillation. Draws come from the run's
/// generator; the pool travels in checkpoints.
/// </summary>
public sealed class ImagePool(int capacity = ImagePool.DefaultCapacity) : IDisposable
{
    public const int DefaultCapacity = 50;

    private readonly List<Tensor> images = [];

    public int Count => images.Count;

    public Tensor Query(Tensor batch, torch.Generator rng)
    {
        var result = new List<Tensor>();
        for (int i = 0; i < batch.shape[0]; i++)
        {
            var image = batch[i].detach().clone();
            if (images.Count < capacity)
            {
                images.Add(image.DetachFromDisposeScope());
                result.Add(image);
                continue;
            }
            using var coin = rand([2], generator: rng);
            var draws = coin.data<float>().ToArray();
            if (draws[0] < 0.5)
            {
                int slot = (int)(draws[1] * capacity) % capacity;
                result.Add(images[slot].clone());
                images[slot].Dispose();
                images[slot] = image.DetachFromDisposeScope();
            }
            else
                result.Add(image);
        }
        return stack(result, 0);
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(images.Count);
        if (images.Count > 0)
            stack(images, 0).Save(writer);
    }

    public void Load(BinaryReader reader, Device device)
    {
        Clear();
        int count = reader.ReadInt32();
        if (count == 0)
            return;
        using var all = Tensor.Load(reader).to(device);
        for (int i = 0; i < count; i++)
            images.Add(all[i].clone().DetachFromDisposeScope());
    }

    private void Clear()
    {
        images.ForEach(t => t.Dispose());
        images.Clear();
    }

    public void Dispose() => Clear();
}
