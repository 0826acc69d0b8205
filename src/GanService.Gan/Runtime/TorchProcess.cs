namespace GanService.Gan.Runtime;

/// <summary>
/// The settings a process that trains or samples must make before libtorch loads: glibc and GNU OpenMP read them
/// once, at load time, so made any later they do nothing (see docs/performance.md, Process settings).
/// </summary>
public static class TorchProcess
{
    /// <summary>What is in force: glibc's allocator tuned or not, GNU OpenMP's spin count ("" where unset).</summary>
    public sealed record Settings(bool AllocatorTuned, string OpenMpSpinCount);

    /// <summary>
    /// Keeps glibc from handing large tensor buffers back to the kernel on every free
    /// (<see cref="TorchRuntime.TuneAllocator"/>), and libtorch's idle OpenMP threads from spinning through the gaps
    /// other work needs (<see cref="TorchRuntime.ShortenOpenMpSpin"/>). Call it first thing in the process; idempotent.
    /// </summary>
    public static Settings Configure() => new(TorchRuntime.TuneAllocator(), TorchRuntime.ShortenOpenMpSpin());
}
