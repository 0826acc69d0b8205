using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace GanService.Gan.Runtime;

/// <summary>
/// What .NET's finalizer thread frees through TorchSharp (native Scalars and tensors) waits a moment before it is
/// freed, which closes two use-after-frees in TorchSharp 0.107 that this project hit as failed previews, 500s and
/// aborted processes.
/// </summary>
/// <remarks>
/// TorchSharp hands libtorch bare pointers: to the native Scalar it makes of a number on almost every call
/// (<c>a + b</c> passes <c>alpha = 1</c>, <c>leaky_relu(x, 0.2)</c> its slope), and to the tensor of a temporary
/// (<c>x.abs().sum()</c>). In optimised code the managed object is unreachable once its pointer is read, so a
/// garbage collection on another thread may finalize it, and free the native object, while the kernel still reads
/// it (upstream: dotnet/TorchSharp pull requests 1434 and 1496, open). With a thread collecting garbage in a loop:
/// 8-13 failed <c>leaky_relu</c> calls in 29,000, and <c>x.abs().sum()</c> outside a dispose scope crashed the process.
/// Rather than find every temporary (the library's and TorchSharp's own), TorchSharp's two freeing functions are
/// routed to a small native library (Native/finalizer_quarantine.c): when the finalizer thread calls them, a Scalar
/// waits five seconds and a tensor two (at most 256 MiB of them, but none less than 50 ms) before the real free;
/// explicit disposals are immediate. Installed when this library loads, before TorchSharp binds its first
/// native function.
/// </remarks>
public static class FinalizerQuarantine
{
    private const string Library = "libGanServiceQuarantine.so";
    private static IntPtr handle;

    /// <summary>Whether TorchSharp's finalizers go through the quarantine in this process.</summary>
    public static bool Installed => handle != IntPtr.Zero;

    /// <summary>Why it is not installed, when it is not.</summary>
    public static string? Problem { get; private set; }

    // A library's module initializer, against CA2255's default: it must run before any of this library's code calls
    // TorchSharp, and every host (service, benchmarks, tests) reaches TorchSharp through this library.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install()
    {
        if (!OperatingSystem.IsLinux())
        {
            Problem = "not Linux";
            return;
        }
        // For the before/after measurement only (FinalizerQuarantineTests fail with it).
        if (Environment.GetEnvironmentVariable("GAN_FINALIZER_QUARANTINE") == "off")
        {
            Problem = "turned off by GAN_FINALIZER_QUARANTINE=off";
            return;
        }
        var path = Path.Combine(AppContext.BaseDirectory, Library);
        try
        {
            if (!File.Exists(path))
            {
                Problem = $"{path} is missing (built by GanService.Gan.csproj with cc)";
                return;
            }
            var loaded = NativeLibrary.Load(path);
            if (!Ready(loaded))
            {
                Problem = "libLibTorchSharp.so's freeing functions were not found";
                return;
            }
            NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, (name, _, _) =>
                name == "LibTorchSharp" ? loaded : IntPtr.Zero
            );
            handle = loaded;
        }
        catch (Exception e)
            when (e
                    is DllNotFoundException
                        or BadImageFormatException
                        or InvalidOperationException
                        or EntryPointNotFoundException
            )
        {
            // InvalidOperationException: something else set TorchSharp's resolver first.
            Problem = e.Message;
        }
    }

    /// <summary>What went through the quarantine since the process started, and what it holds now.</summary>
    public readonly record struct Totals(
        ulong Scalars,
        ulong ScalarsHeld,
        ulong Tensors,
        ulong TensorsHeld,
        ulong TensorBytesHeld
    );

    public static unsafe Totals Counts()
    {
        if (!Installed)
            return default;
        ulong* counts = stackalloc ulong[5];
        ((delegate* unmanaged<ulong*, void>)NativeLibrary.GetExport(handle, "GanService_quarantine_counts"))(counts);
        return new Totals(counts[0], counts[1], counts[2], counts[3], counts[4]);
    }

    private static unsafe bool Ready(IntPtr library) =>
        NativeLibrary.TryGetExport(library, "GanService_quarantine_ready", out var ready)
        && ((delegate* unmanaged<int>)ready)() != 0;
}
