using GanService.Gan.Cpu;
using GanService.Gan.Models;
using GanService.Gan.Runtime;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Cpu;

/// <summary>
/// Two buffers the DCGAN reuses: the batch norm's backward writes its input gradient over its input (a convolution's
/// output), and D's first LeakyReLU overwrites the convolution's output. Both are safe only while nothing else reads
/// those tensors afterwards; if anything did, a gradient would change. With them and without them, a G update through
/// D (and D's own pass) must give the same gradients, bit for bit: the same kernels run, only into other memory.
/// </summary>
public class BufferReuseTests
{
    [Theory]
    [InlineData(28, 3)]
    [InlineData(64, 1)]
    public void Reused_buffers_leave_every_gradient_unchanged(int size, int channels)
    {
        var recipe = new ModelRecipe(ImageSize: size, Channels: channels);
        var reused = Gradients(recipe, reuse: true);
        var fresh = Gradients(recipe, reuse: false);
        Assert.Equal(fresh.Keys, reused.Keys);
        foreach (var (name, want) in fresh)
        {
            float difference = (reused[name] - want).abs().max().item<float>();
            Assert.True(difference == 0, $"{name}: differs by up to {difference}");
        }
    }

    private static Dictionary<string, Tensor> Gradients(ModelRecipe recipe, bool reuse)
    {
        using var paths = FastPaths.Override(p => p with { InPlace = reuse, Reuse = reuse });
        return TorchRuntime.RunOnOwnThread("reuse-test", 2, () =>
        {
            using var scope = NewDisposeScope();
            // Weights from a generator of the test's own: tests beside it draw from the global one.
            using var generator = GanNetworks.Generator(recipe);
            using var discriminator = GanNetworks.Discriminator(recipe);
            using var weightsRng = new torch.Generator(7);
            Initialization.Apply(generator, weightsRng);
            Initialization.Apply(discriminator, weightsRng);
            using var rng = new torch.Generator(8);
            var latent = randn([16, recipe.LatentSize], generator: rng);
            var real = ChannelsLast.Of(
                rand([16, recipe.Channels, recipe.ImageSize, recipe.ImageSize], generator: rng).mul(2).sub(1)
            );
            var weights = linspace(-1, 2, 16);
            // G's update: through D into G. D's pass on the real batch: D's gradients from a second graph.
            var fake = GanNetworks.Call(generator, latent, null);
            (GanNetworks.Call(discriminator, fake, null).flatten() * weights).sum().backward();
            (GanNetworks.Call(discriminator, real, null).flatten() * weights).sum().backward();
            return generator
                .named_parameters()
                .Select(p => ($"G {p.name}", p.parameter))
                .Concat(discriminator.named_parameters().Select(p => ($"D {p.name}", p.parameter)))
                .ToDictionary(p => p.Item1, p => p.parameter.grad!.detach().clone().MoveToOuterDisposeScope());
        });
    }
}
