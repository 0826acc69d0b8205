using GanService.Gan.Cpu;
using GanService.Gan.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Cpu;

/// <summary>
/// The fast paths' switches: each has a name that turns exactly it off, an override holds for its scope and the
/// threads it starts but not for tests beside it, and a backward pass runs with the paths of its forward pass.
/// </summary>
public class FastPathsTests
{
    [Fact]
    public void Every_switch_has_a_name_that_turns_off_that_switch_alone()
    {
        var switches = typeof(FastPaths).GetProperties().Where(p => p.PropertyType == typeof(bool)).ToList();
        Assert.Equal(switches.Count, FastPaths.Off.Count);
        var all = new FastPaths();
        Assert.All(switches, s => Assert.True((bool)s.GetValue(all)!));
        foreach (var (name, off) in FastPaths.Off)
            Assert.Single(switches, s => !(bool)s.GetValue(off(all))!);
        Assert.Equal(all with { BatchNorm = false, OpenMpTeam = false }, all.Without(["batchnorm", "threadpool"]));
        Assert.Throws<ArgumentException>(() => all.Without(["no-such-path"]));
    }

    [Fact]
    public async Task An_override_holds_in_its_scope_and_the_threads_it_starts_and_nowhere_else()
    {
        using var started = new Barrier(2);
        var beside = Task.Run(() =>
        {
            started.SignalAndWait();
            started.SignalAndWait(); // the other flow's override is in force now
            return FastPaths.Current;
        });
        using (FastPaths.Override(p => p with { Adam = false }))
        {
            started.SignalAndWait();
            using (FastPaths.Override(p => p with { Grouping = false }))
                Assert.Equal(new FastPaths(Adam: false, Grouping: false), FastPaths.Current);
            Assert.False(TorchRuntime.RunOnOwnThread("paths-test", 1, () => FastPaths.Current.Adam));
            started.SignalAndWait();
            Assert.Equal(FastPaths.Default, await beside);
            Assert.Equal(FastPaths.Default with { Adam = false }, FastPaths.Current);
        }
        Assert.Equal(FastPaths.Default, FastPaths.Current);
    }

    [Fact]
    public void A_fused_backward_runs_with_the_paths_its_forward_ran_with()
    {
        // The wide passes and the 256-bit ones sum in another order: the gradients tell which ran.
        Tensor Gradient(bool wideForward, bool wideBackward) => TorchRuntime.RunOnOwnThread("paths-test", 1, () =>
            {
                using var scope = NewDisposeScope();
                using var rng = new torch.Generator(3);
                using var norm = nn.BatchNorm2d(64);
                var x = ChannelsLast.Of(randn(16, 64, 14, 14, generator: rng) * 3 + 7).requires_grad_(true);
                Tensor y;
                using (FastPaths.Override(p => p with { Wide = wideForward }))
                    y = BatchNormLeakyReLU.Apply(norm, x, 0.2);
                using (FastPaths.Override(p => p with { Wide = wideBackward }))
                    (y * linspace(-1, 2, y.numel()).reshape(y.shape)).sum().backward();
                return x.grad!.detach().clone().MoveToOuterDisposeScope();
            });

        Assert.True(Gradient(wideForward: false, wideBackward: true).equal(Gradient(false, false)).all().item<bool>());
        Assert.True(Gradient(wideForward: true, wideBackward: false).equal(Gradient(true, true)).all().item<bool>());
    }
}
