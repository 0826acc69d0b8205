namespace GanService.Gan.Cpu;

/// <summary>
/// Keeps libtorch from asking an unusable NNPACK about every small convolution. libtorch offers NNPACK each
/// convolution oneDNN does not take (batch-1 3x3 and 1x1 ones, as a CycleGAN translation runs), and where NNPACK
/// cannot start ("Unsupported hardware") it logs that warning on every such call. Asked once here, and turned off in
/// <c>at::Context</c> where unusable, those convolutions run on the kernel they ran on anyway, silently. Where NNPACK
/// works nothing changes.
/// </summary>
public static class Nnpack
{
    private static readonly Lazy<bool> Settled = new(Settle, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Once per process; returns whether NNPACK can run here (where not, libtorch no longer offers it work).
    /// </summary>
    public static bool Ensure() => Settled.Value;

    /// <summary>
    /// Whether libtorch offers convolutions to NNPACK now (null where libtorch's switch cannot be reached).
    /// </summary>
    public static bool? Offered
    {
        get
        {
            try
            {
                return LibtorchContext.Nnpack;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }
        }
    }

    private static bool Settle()
    {
        try
        {
            if (LibtorchContext.NnpackAvailable)
                return true; // where it cannot start, this logs the warning once
            LibtorchContext.Nnpack = false;
            return false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return true; // another libtorch build: left as it is
        }
    }
}
