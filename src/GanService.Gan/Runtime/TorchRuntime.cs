using System.Runtime.InteropServices;
using TorchSharp;

namespace GanService.Gan.Runtime;

/// <summary>Process-wide libtorch settings: allocator behaviour, thread counts and device choice.</summary>
public static partial class TorchRuntime
{
    private const int MallocTrimThreshold = -1, MallocMmapThreshold = -3;
    private static readonly Lazy<bool> AllocatorTuned = new(ApplyMallopt);

    /// <summary>
    /// Keeps glibc from handing libtorch's large tensor buffers back to the kernel on every free, which made a
    /// DCGAN step 1.6x slower here (see docs/benchmarks.md). Call first thing in the process; idempotent.
    /// Returns whether the settings are in force.
    /// </summary>
    public static bool TuneAllocator() => AllocatorTuned.Value;

    private static bool ApplyMallopt()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return mallopt(MallocMmapThreshold, 32 * 1024 * 1024) == 1 && mallopt(MallocTrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (e.g. musl): nothing to tune
        }
    }

    /// <summary>Caps libtorch's intra-op threads so the web host and Hangfire heartbeats keep a core.</summary>
    public static void SetThreads(int threads) => torch.set_num_threads(Math.Max(1, threads));

    public static bool CudaAvailable => torch.cuda.is_available();

    /// <summary>Resolves auto, cpu or cuda; asking for cuda where there is none is an error, never a silent fallback.</summary>
    public static torch.Device ResolveDevice(string requested) => requested.ToLowerInvariant() switch
    {
        "auto" => CudaAvailable ? torch.CUDA : torch.CPU,
        "cpu" => torch.CPU,
        "cuda" => CudaAvailable
            ? torch.CUDA
            : throw new DeviceUnavailableException("Device 'cuda' was requested but this worker has no usable CUDA device (TorchSharp CPU build, no GPU, or no driver)."),
        _ => throw new ArgumentException($"Unknown device '{requested}'; use auto, cpu or cuda.", nameof(requested)),
    };

    // "libc.so.6", not "libc": the unversioned name is a linker script that dlopen cannot load.
    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}

public sealed class DeviceUnavailableException(string message) : Exception(message);
