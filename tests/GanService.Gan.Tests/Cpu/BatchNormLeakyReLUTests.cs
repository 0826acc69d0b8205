using GanService.Gan.Cpu;
using GanService.Gan.Models;
using GanService.Gan.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Cpu;

/// <summary>
/// The generator's batch norm + LeakyReLU runs fused in training (<see cref="BatchNormLeakyReLU"/>), its parts on the
/// training thread's OpenMP team (<see cref="OpenMpTeam"/>): activations, all three gradients and the running
/// statistics must be the library's, on one thread and on two.
/// </summary>
public class BatchNormLeakyReLUTests
{
    [Theory]
    [InlineData(64, 28, 1, true)]
    [InlineData(64, 14, 2, true)]
    [InlineData(5, 7, 2, true)]
    [InlineData(1, 2, 2, true)]
    [InlineData(3, 33, 2, true)]
    [InlineData(64, 28, 2, false)]
    [InlineData(5, 7, 1, false)]
    public void The_fused_block_gives_the_librarys_activations_gradients_and_running_statistics(
        int batch,
        int size,
        int threads,
        bool wide
    )
    {
        // Where the CPU has no AVX-512 both cases take the 256-bit kernels.
        using (FastPaths.Override(p => p with { Wide = wide }))
            Check(batch, size, threads);
    }

    private static void Check(int batch, int size, int threads) =>
        TorchRuntime.RunOnOwnThread("fused-test", threads, () =>
        {
            // Every temporary is the scope's, none the finalizer's (see GradientCheck).
            using var scope = NewDisposeScope();
            using var rng = new torch.Generator(5);
            // An offset mean and a spread unlike 1, so that centring and scaling both matter.
            using var input = ChannelsLast.Of(randn(batch, 64, size, size, generator: rng) * 3 + 7);
            using var reference = Block(rng);
            using var fused = Block(rng);
            using var exact = Block(rng);
            fused.load_state_dict(reference.state_dict());
            exact.load_state_dict(reference.state_dict());
            exact.to(ScalarType.Float64);
            Assert.True(BatchNormLeakyReLU.Fits(fused, input), "a training-mode block on channels-last input is fused");

            var library = Run(reference, input, x => nn.functional.leaky_relu(reference.call(x), 0.2));
            var actual = Run(fused, input, x => BatchNormLeakyReLU.Apply(fused, x, 0.2));
            // The truth in float64. The input gradient subtracts near-equal terms, so float32 results differ from it
            // by up to 2e-3 at batch 64 x 28 x 28, the library's included:
            // the fused block must be as close as the library.
            var truth = Run(exact, input.to(ScalarType.Float64), x => nn.functional.leaky_relu(exact.call(x), 0.2));
            AssertAsClose(library.Output, actual.Output, truth.Output, "activations");
            AssertAsClose(library.Input, actual.Input, truth.Input, "input gradient");
            AssertAsClose(library.Scale, actual.Scale, truth.Scale, "scale gradient");
            AssertAsClose(library.Offset, actual.Offset, truth.Offset, "offset gradient");
            AssertAsClose(reference.running_mean!, fused.running_mean!, exact.running_mean!, "running mean");
            AssertAsClose(reference.running_var!, fused.running_var!, exact.running_var!, "running variance");
            Assert.Equal(reference.num_batches_tracked!.item<long>(), fused.num_batches_tracked!.item<long>());
            return 0;
        });

    [Fact]
    public void Evaluation_double_precision_and_nchw_input_take_the_library_layers()
    {
        using var norm = nn.BatchNorm2d(64);
        using var nchw = randn(2, 64, 5, 5);
        Assert.False(BatchNormLeakyReLU.Fits(norm, nchw));
        Assert.False(BatchNormLeakyReLU.Fits(norm, ChannelsLast.Of(nchw).to(ScalarType.Float64)));
        norm.eval();
        Assert.False(BatchNormLeakyReLU.Fits(norm, ChannelsLast.Of(nchw)));
        using var _ = no_grad();
        using var expected = nn.functional.leaky_relu(norm.call(nchw), 0.2);
        using var actual = BatchNormLeakyReLU.Apply(norm, ChannelsLast.Of(nchw), 0.2);
        Assert.True(
            expected.allclose(actual, rtol: 1e-5, atol: 1e-6),
            "evaluation mode gives the library's activations"
        );
    }

    [Fact]
    public void R1_through_a_batch_norm_discriminator_gets_the_second_order_gradients_of_the_library_layers()
    {
        // The fused backward pass is not differentiable in turn: a penalty's forward pass must take the library's
        // layers, or the gradient of the penalty would silently lose the batch norm's part.
        Tensor[] PenaltyGradients(bool fusedAllowed)
        {
            using var paths = FastPaths.Override(p => p with { BatchNorm = fusedAllowed });
            // Weights from a generator of the test's own: tests beside it draw from the global one.
            using var discriminator = new DcganDiscriminator(new GanService.Gan.Training.ModelRecipe(Channels: 3));
            using (var weightsRng = new torch.Generator(3))
                Initialization.Apply(discriminator, weightsRng);
            using var rng = new torch.Generator(4);
            using var real = randn(8, 3, 28, 28, generator: rng);
            discriminator.zero_grad();
            using var penalty = GanService.Gan.Losses.Penalties.R1(discriminator.call, real, gamma: 10);
            penalty.backward();
            return discriminator.parameters().Select(p => p.grad?.clone() ?? zeros_like(p)).ToArray();
        }

        var library = PenaltyGradients(fusedAllowed: false);
        var ours = PenaltyGradients(fusedAllowed: true);
        Assert.Equal(library.Length, ours.Length);
        for (int i = 0; i < library.Length; i++)
            Assert.True(
                library[i].allclose(ours[i], rtol: 1e-4, atol: 1e-6),
                $"parameter {i}: the penalty's gradient differs"
            );
    }

    [Fact]
    public void Every_part_runs_once_on_the_team_and_a_failure_reaches_the_caller()
    {
        TorchRuntime.RunOnOwnThread("team-test", 2, () =>
        {
            var ran = new int[4];
            OpenMpTeam.For(4, part => Interlocked.Increment(ref ran[part]));
            Assert.Equal([1, 1, 1, 1], ran);
            var failure = Assert.Throws<InvalidOperationException>(() => OpenMpTeam.For(2, part =>
                {
                    if (part == 1)
                        throw new InvalidOperationException("part 1 failed");
                }));
            Assert.Equal("part 1 failed", failure.Message);
            return 0;
        });
    }

    private static TorchSharp.Modules.BatchNorm2d Block(torch.Generator rng)
    {
        var norm = nn.BatchNorm2d(64);
        using (no_grad())
        {
            norm.weight!.normal_(1, 0.3, rng);
            norm.bias!.normal_(0, 0.3, rng);
        }
        return norm;
    }

    private sealed record Result(Tensor Output, Tensor Input, Tensor Scale, Tensor Offset);

    private static Result Run(TorchSharp.Modules.BatchNorm2d norm, Tensor input, Func<Tensor, Tensor> forward)
    {
        var x = input.detach().clone().requires_grad_(true);
        var output = forward(x);
        using var projection = linspace(-1, 2, output.numel()).reshape(output.shape);
        using var objective = (output * projection).sum();
        objective.backward();
        return new Result(output.detach(), x.grad!.clone(), norm.weight!.grad!.clone(), norm.bias!.grad!.clone());
    }

    private static void AssertAsClose(Tensor library, Tensor actual, Tensor truth, string what)
    {
        Assert.Equal(truth.shape, actual.shape);
        double Error(Tensor t) =>
            t.to(ScalarType.Float64).sub(truth).norm().item<double>() / (truth.norm().item<double>() + 1e-12);
        double ours = Error(actual),
            theirs = Error(library);
        Assert.True(
            ours <= Math.Max(2 * theirs, 1e-5),
            $"{what}: relative error {ours:E2} against the library's {theirs:E2}"
        );
    }
}
