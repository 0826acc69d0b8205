using GanService.Gan.Cpu;
using GanService.Gan.Data;
using GanService.Gan.Models;
using GanService.Gan.Runtime;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Cpu;

/// <summary>
/// D's update scores the real and the fake batch in one pass, two groups each normalised alone
/// (<see cref="IGroupedDiscriminator"/>). It must be the same function as two passes: logits, every parameter's
/// gradient and the batch norm's running statistics, with the fused batch norm and with the library's.
/// </summary>
public class GroupedDiscriminatorTests
{
    [Theory]
    [InlineData("dcgan", 28, 3, "batch", true)]
    [InlineData("dcgan", 28, 3, "batch", false)]
    [InlineData("dcgan", 64, 1, "batch", true)]
    [InlineData("dcgan", 32, 3, "none", true)]
    [InlineData("conditional-dcgan", 28, 1, "batch", true)]
    public void One_pass_over_two_groups_equals_a_pass_per_batch(
        string family,
        int size,
        int channels,
        string norm,
        bool fused
    )
    {
        using var paths = FastPaths.Override(p => p with { BatchNorm = fused });
        TorchRuntime.RunOnOwnThread("grouped-test", 2, () =>
            Check(new ModelRecipe(family, size, channels, Classes: family == "dcgan" ? 0 : 10, Normalization: norm))
        );
    }

    private static int Check(ModelRecipe recipe)
    {
        using var scope = NewDisposeScope();
        using var rng = new torch.Generator(9);
        var real = rand([16, recipe.Channels, recipe.ImageSize, recipe.ImageSize], generator: rng).mul(2).sub(1);
        // The fakes come from G channels-last, the real batch from the data in the default layout.
        var fake = ChannelsLast.Of(
            randn([16, recipe.Channels, recipe.ImageSize, recipe.ImageSize], generator: rng).tanh()
        );
        var labels = recipe.Conditional ? randint(0, 10, [16], generator: rng) : null;
        using var separate = GanNetworks.Discriminator(recipe);
        using var grouped = GanNetworks.Discriminator(recipe);
        grouped.load_state_dict(separate.state_dict());
        // Different weights on the two batches' logits, as the real and fake targets of a loss.
        var weights = linspace(-1, 2, 32);

        var (realLogits, fakeLogits) = (
            GanNetworks.Call(separate, real, labels),
            GanNetworks.Call(separate, fake, labels)
        );
        var expected = cat([realLogits, fakeLogits], 0);
        (expected * weights).sum().backward();
        var both = cat([real, fake], 0);
        var actual = ((IGroupedDiscriminator)grouped).Call(both, labels is null ? null : cat([labels, labels], 0), 2);
        (actual * weights).sum().backward();

        Assert.True(((IGroupedDiscriminator)grouped).Groupable);
        Assert.True(
            actual.allclose(expected, rtol: 1e-4, atol: 1e-5),
            $"logits differ by up to {(actual - expected).abs().max().item<float>()}"
        );
        // Summed in another order, float32 gradients differ in their last digits: compared as a whole, relative to
        // their size, plus a floor from the largest gradient for the convolution bias before a batch norm, whose
        // gradient is zero but for rounding.
        double largest = separate.parameters().Max(p => p.grad!.norm().item<float>());
        foreach (var ((name, want), (_, got)) in separate.named_parameters().Zip(grouped.named_parameters()))
        {
            double error = (got.grad! - want.grad!).norm().item<float>(),
                size = want.grad!.norm().item<float>();
            Assert.True(
                error <= 1e-5 * (size + largest),
                $"{name}: gradients differ by {error:E2}, against a norm of {size:E2} (largest {largest:E2})"
            );
        }
        foreach (var ((name, want), (_, got)) in separate.named_buffers().Zip(grouped.named_buffers()))
            Assert.True(
                got.to(ScalarType.Float64).allclose(want.to(ScalarType.Float64), rtol: 1e-5, atol: 1e-6),
                $"{name}: running statistics differ"
            );
        return 0;
    }

    [Fact]
    public void Spectral_norm_is_not_grouped_since_each_call_advances_its_power_iteration()
    {
        using var d = GanNetworks.Discriminator(new ModelRecipe(Channels: 1, Normalization: ModelRecipe.SpectralNorm));
        Assert.False(((IGroupedDiscriminator)d).Groupable);
    }

    [Fact]
    public void Training_with_grouped_passes_gives_the_run_of_separate_ones()
    {
        Dictionary<string, Tensor> Run(bool grouping)
        {
            using var paths = FastPaths.Override(p => p with { Grouping = grouping });
            return TorchRuntime.RunOnOwnThread("grouped-run", 2, () =>
            {
                var plan = new TrainingPlan(new ModelRecipe(Channels: 3), new OptimizerRecipe(), 6, 16, Seed: 3);
                using var data = SyntheticBlobs.Create(28, 3, seed: 3, count: 256);
                using var trainer = GanTrainer.Create(plan, data, CPU);
                trainer.Train(6);
                return trainer.GeneratorState().ToDictionary(p => p.Key, p => p.Value.detach().clone());
            });
        }

        var separate = Run(grouping: false);
        var grouped = Run(grouping: true);
        // One pass sums in another order than two, so a weight whose gradient is nearly zero can see Adam's
        // normalised step (at most about the learning rate) flip sign: such weights move apart by up to two steps
        // a step. Every other weight must agree closely, and those weights must stay rare.
        const double lr = 2e-4,
            steps = 6;
        foreach (var (name, want) in separate)
        {
            using var diff = (grouped[name] - want).abs().to(ScalarType.Float64);
            double largest = diff.max().item<double>(),
                far = diff.gt(1e-4).sum().item<long>();
            Assert.True(largest <= 2 * lr * steps, $"{name}: differs by up to {largest}");
            Assert.True(
                far <= Math.Max(1, 1e-3 * want.numel()),
                $"{name}: {far} of {want.numel()} weights differ by over 1e-4"
            );
        }
    }
}
