using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace GanService.Gan.Runtime;

/// <summary>
/// Keeps libtorch's convolutions right. On a 2-vCPU AMD EPYC of family 26 (Zen 5; its VM reports a 508 MiB L3) the
/// oneDNN bundled with libtorch 2.10 returned wrong or NaN input gradients for stride-1 convolutions whose output
/// channels are not a multiple of 16 (every single-threaded call, about 40% of two-threaded ones) and wrong outputs
/// for many stride-1 transposed convolutions: BigGAN, ProGAN and StyleGAN diverged within 20 steps, and PatchGAN's and
/// CycleGAN's 1- and 3-channel layers are of that kind. DCGAN's layers were right. Capping oneDNN at AVX2 fixed some
/// of those shapes, not all (a 32-to-3 3x3 convolution's input gradient stayed wrong), so the defence is a self-test:
/// before the first network is built, a few such convolutions are compared with float64 (which never goes through
/// oneDNN) and, where they disagree, oneDNN is turned off for the process (<c>at::Context::setUserEnabledMkldnn</c>,
/// which libtorch reads on every convolution, forward and backward): libtorch's own convolutions are right there,
/// about 5x slower on DCGAN. <c>GAN_ONEDNN=on</c> skips the check, <c>off</c> turns oneDNN off.
/// </summary>
public static partial class OneDnnCheck
{
    private static readonly Lazy<Verdict> Result = new(Decide, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary><see cref="Verdict.WrongNotDisabled"/>: the check failed and libtorch's switch could not be reached.</summary>
    public enum Verdict { Trusted, DisabledByCheck, DisabledBySetting, NotChecked, WrongNotDisabled }

    /// <summary>Runs the check once per process (tens of milliseconds) and applies it; later calls return the verdict.</summary>
    public static Verdict Ensure() => Result.Value;

    /// <summary>The largest relative error of the check's convolutions against float64 (NaN counts as infinite).</summary>
    public static double WorstError()
    {
        double worst = 0;
        using var scope = NewDisposeScope();
        using var rng = new Generator(20261202);
        // Shapes the failure showed: stride-1 3x3 with 8 outputs (backward), a transposed 4x4 from 8 channels (forward).
        foreach (var (transposed, inChannels, outChannels) in new[] { (false, 8, 8), (false, 32, 3), (true, 8, 16) })
        {
            var x = randn(new long[] { 4, inChannels, 16, 16 }, generator: rng).requires_grad_(true);
            var w = randn(transposed ? new long[] { inChannels, outChannels, 4, 4 } : new long[] { outChannels, inChannels, 3, 3 }, generator: rng).mul_(0.1).requires_grad_(true);
            Tensor Apply(Tensor input, Tensor weight) => transposed
                ? nn.functional.conv_transpose2d(input, weight, padding: [1, 1])
                : nn.functional.conv2d(input, weight, padding: [1, 1]);
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
        double error = (value.to(float64) - reference).abs().max().item<double>() / (reference.abs().max().item<double>() + 1e-12);
        return double.IsFinite(error) ? error : double.PositiveInfinity;
    }

    private static Verdict Decide()
    {
        switch (Environment.GetEnvironmentVariable("GAN_ONEDNN")?.ToLowerInvariant())
        {
            case "on": return Verdict.NotChecked;
            case "off": return Disable() ? Verdict.DisabledBySetting : Verdict.NotChecked;
        }
        // On a thread of its own, single-threaded: the failure was certain there, and no caller's thread count changes.
        double worst = TorchRuntime.RunOnOwnThread("onednn-check", 1, WorstError);
        return worst < 1e-4 ? Verdict.Trusted : Disable() ? Verdict.DisabledByCheck : Verdict.WrongNotDisabled;
    }

    private static bool Disable()
    {
        try
        {
            setUserEnabledMkldnn(globalContext(), false);
            return !userEnabledMkldnn(globalContext());
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // at::globalContext() and two members of at::Context (the object is the first argument in the Itanium C++ ABI).
    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr globalContext();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void setUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool userEnabledMkldnn(IntPtr context);
}
