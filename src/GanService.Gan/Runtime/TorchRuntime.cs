using System.Runtime.InteropServices;
using TorchSharp;

namespace GanService.Gan.Runtime;

/// <summary>Process-wide libtorch settings: allocator behaviour, thread counts and device choice.</summary>
public static partial class TorchRuntime
{
    private const int MallocTrimThreshold = -1,
        MallocTopPad = -2,
        MallocMmapThreshold = -3;
    private const int KeptBytes = 64 * 1024 * 1024;
    private static readonly Lazy<bool> AllocatorTuned = new(ApplyMallopt);

    /// <summary>
    /// Keeps glibc from handing libtorch's large tensor buffers back to the kernel on every free, which made a
    /// DCGAN step 1.6x slower here (see docs/benchmarks.md). Call first thing in the process; idempotent.
    /// Returns whether the settings are in force.
    /// </summary>
    /// <remarks>
    /// Three settings, each measured. Buffers up to 32 MiB come from the heap instead of fresh mappings; the main
    /// heap is never trimmed. And the top pad: threads other than the first allocate from arenas made of 64 MiB
    /// heaps, and glibc unmaps an arena's newest heap whenever it empties, whatever the trim threshold, unless the
    /// pad covers a whole heap. Training runs on a thread of its own, and its 12.8 MB activations went through heaps
    /// that were unmapped and mapped again step after step: 2,400-11,900 page faults per DCGAN step, 50-260 with the
    /// pad. The pad only reserves address space; pages never touched cost no memory.
    /// </remarks>
    public static bool TuneAllocator() => AllocatorTuned.Value;

    private static bool ApplyMallopt()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            return mallopt(MallocMmapThreshold, 32 * 1024 * 1024) == 1
                && mallopt(MallocTrimThreshold, int.MaxValue) == 1
                && mallopt(MallocTopPad, KeptBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (e.g. musl): nothing to tune
        }
    }

    /// <summary>
    /// Lowers the calling thread's scheduling priority (Linux keeps it per thread, and lowering needs no privilege):
    /// <see cref="ThreadPriorityClass.Low"/> is nice 10; <see cref="ThreadPriorityClass.Idle"/> is SCHED_IDLE, which
    /// runs only on CPU time no normal thread wants. Returns whether it took effect.
    /// </summary>
    public static bool LowerCurrentThreadPriority(ThreadPriorityClass priority)
    {
        if (!OperatingSystem.IsLinux() || priority == ThreadPriorityClass.Normal)
            return false;
        try
        {
            int unused = 0;
            return priority == ThreadPriorityClass.Idle
                ? sched_setscheduler(gettid(), SchedIdle, ref unused) == 0
                : setpriority(PrioProcess, gettid(), 10) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    public static bool CudaAvailable => torch.cuda.is_available();

    /// <summary>
    /// Resolves auto, cpu or cuda; asking for cuda where there is none is an error, never a silent fallback.
    /// </summary>
    public static torch.Device ResolveDevice(string requested) =>
        requested.ToLowerInvariant() switch
        {
            "auto" => CudaAvailable ? torch.CUDA : torch.CPU,
            "cpu" => torch.CPU,
            "cuda" => CudaAvailable
                ? torch.CUDA
                : throw new DeviceUnavailableException(
                    "Device 'cuda' was requested but this worker has no usable CUDA device "
                        + "(TorchSharp CPU build, no GPU, or no driver)."
                ),
            _ => throw new ArgumentException(
                $"Unknown device '{requested}'; use auto, cpu or cuda.",
                nameof(requested)
            ),
        };

    // "libc.so.6", not "libc": the unversioned name is a linker script that dlopen cannot load.
    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);

    private const int PrioProcess = 0,
        SchedIdle = 5;

    [LibraryImport("libc.so.6", EntryPoint = "sched_setscheduler")]
    private static partial int sched_setscheduler(int pid, int policy, ref int param);

    [LibraryImport("libc.so.6", EntryPoint = "setpriority")]
    private static partial int setpriority(int which, int who, int priority);

    [LibraryImport("libc.so.6", EntryPoint = "gettid")]
    private static partial int gettid();
}

/// <summary>How much a thread defers to others on the host: normal, low (nice 10) or idle (SCHED_IDLE).</summary>
public enum ThreadPriorityClass
{
    Normal,
    Low,
    Idle,
}

public sealed class DeviceUnavailableException(string message) : Exception(message);
