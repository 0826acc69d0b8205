using GanService.Gan.Runtime;
using static TorchSharp.torch;

namespace GanService.Gan.Cpu;

/// <summary>
/// Keeps libtorch's convolutions right. On some CPUs (a Zen 5 EPYC) the oneDNN bundled with libtorch 2.10 returns
/// wrong or NaN outputs or input gradients for 3x3 and 4x4 convolutions, plain and transposed, with a channel count not
/// a multiple of 16, and no ISA cap fixes all of them; so, before the first network is built, three such convolutions
/// are compared with float64 (which never goes through oneDNN). Where they disagree, oneDNN stays on and
/// <see cref="Convolutions"/> checks each geometry once and runs the wrong ones on libtorch's reference kernel
/// (<see cref="Verdict.Routed"/>); without that kernel oneDNN is turned off for the process
/// (<c>at::Context::setUserEnabledMkldnn</c>), much slower. <c>GAN_ONEDNN=on</c> skips the check, <c>off</c> turns
/// oneDNN off. See docs/performance.md, libtorch workarounds.
/// </summary>
public static class OneDnnCheck
{
    private static readonly Lazy<Verdict> Result = new(Decide, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// <see cref="Verdict.Routed"/>: the check failed; oneDNN stays on, the geometries it gets wrong are routed.
    /// <see cref="Verdict.WrongNotDisabled"/>: the check failed and neither the route nor libtorch's switch
    /// could be reached.
    /// </summary>
    public enum Verdict
    {
        Trusted,
        Routed,
        DisabledByCheck,
        DisabledBySetting,
        NotChecked,
        WrongNotDisabled,
    }

    /// <summary>
    /// Runs the check once per process and applies it; later calls return the verdict.
    /// </summary>
    public static Verdict Ensure() => Result.Value;

    /// <summary>
    /// The largest relative error of the check's convolutions against float64 (NaN counts as infinite), run as the
    /// library runs them (<see cref="Convolutions"/>), or straight through libtorch.
    /// </summary>
    public static double WorstError(bool routed = true)
    {
        double worst = 0;
        using var scope = NewDisposeScope();
        using var rng = new Generator(20261202);
        // Shapes the failure showed: stride-1 3x3 with 8 outputs (backward),
        // a transposed 4x4 from 8 channels (forward).
        foreach (var (transposed, inChannels, outChannels) in new[] { (false, 8, 8), (false, 32, 3), (true, 8, 16) })
        {
            var x = randn(new long[] { 4, inChannels, 16, 16 }, generator: rng).requires_grad_(true);
            var w = randn(
                    transposed
                        ? new long[] { inChannels, outChannels, 4, 4 }
                        : new long[] { outChannels, inChannels, 3, 3 },
                    generator: rng
                )
                .mul_(0.1)
                .requires_grad_(true);
            Tensor Apply(Tensor input, Tensor weight)
            {
                var geometry = new Convolutions.Geometry(
                    transposed,
                    inChannels,
                    outChannels,
                    weight.shape[2],
                    weight.shape[3],
                    1,
                    1,
                    1,
                    1,
                    0,
                    0,
                    1,
                    input.shape[2],
                    input.shape[3]
                );
                if (!routed)
                    return Convolutions.Libtorch(geometry, input, weight, null);
                return transposed
                    ? Convolutions.ConvTranspose2d(input, weight, null, (1, 1), (1, 1), (0, 0))
                    : Convolutions.Conv2d(input, weight, null, padding: 1);
            }
            var y = Apply(x, w);
            var g = randn(y.shape, generator: rng);
            y.backward([g]);
            var x64 = x.detach().to(float64).requires_grad_(true);
            var y64 = Apply(x64, w.detach().to(float64));
            y64.backward([g.to(float64)]);
            worst = Math.Max(worst, Math.Max(Relative(y, y64), Relative(x.grad!, x64.grad!)));
        }
        return worst;
    }

    private static double Relative(Tensor value, Tensor reference)
    {
        double error =
            (value.to(float64) - reference).abs().max().item<double>() / (reference.abs().max().item<double>() + 1e-12);
        return double.IsFinite(error) ? error : double.PositiveInfinity;
    }

    private static Verdict Decide()
    {
        Nnpack.Ensure(); // the other half of settling libtorch's convolutions before the first network
        switch (Environment.GetEnvironmentVariable("GAN_ONEDNN")?.ToLowerInvariant())
        {
            case "on":
                return Verdict.NotChecked;
            case "off":
                return Disable() ? Verdict.DisabledBySetting : Verdict.NotChecked;
        }
        // On a thread of its own, single-threaded: the failure was certain there, and no caller's thread count changes.
        double worst = TorchRuntime.RunOnOwnThread("onednn-check", 1, () => WorstError(routed: false));
        if (worst < 1e-4)
            return Verdict.Trusted;
        return ReferenceConvolution.Available ? Verdict.Routed
            : Disable() ? Verdict.DisabledByCheck
            : Verdict.WrongNotDisabled;
    }

    private static bool Disable()
    {
        try
        {
            LibtorchContext.Mkldnn = false;
            return !LibtorchContext.Mkldnn;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
