using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace GanService.Gan.Runtime;

/// <summary>
/// Keeps every libtorch Scalar alive for a few seconds after TorchSharp frees it, which closes a use-after-free in
/// TorchSharp 0.107 that this project hit as failed previews, 500s and aborted processes.
/// </summary>
/// <remarks>
/// TorchSharp turns numbers into native Scalars on almost every call (<c>a + b</c> passes <c>alpha = 1</c>,
/// <c>leaky_relu(x, 0.2)</c> its slope) and hands libtorch only the pointer. In optimised code the managed Scalar is
/// unreachable from that moment, so a garbage collection on another thread may finalize it, and free the native
/// Scalar, while the kernel is about to read it (upstream: dotnet/TorchSharp pull requests 1434 and 1496, open).
/// Measured with a thread collecting garbage continuously: 11 failed <c>leaky_relu</c> calls in 29,000, and once a
/// benchmark process aborted in a preview render. Freed Scalars are tiny, so rather than find every temporary (the
/// library's and TorchSharp's own), TorchSharp's Scalar-freeing function is routed to a small native library
/// (Native/scalar_quarantine.c) that holds each one for five seconds first; a kernel reads its Scalars within
/// microseconds of the call. Installed when this library loads, before TorchSharp binds its first native function.
/// </remarks>
public static class ScalarQuarantine
{
    private const string Library = "libGanServiceScalars.so";
    private static IntPtr handle;

    /// <summary>Whether TorchSharp's Scalars go through the quarantine in this process.</summary>
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
        if (!OperatingSystem.IsLinux()) { Problem = "not Linux"; return; }
        // For the before/after measurement only (benchmarks/run.sh race).
        if (Environment.GetEnvironmentVariable("GAN_SCALAR_QUARANTINE") == "off") { Problem = "turned off by GAN_SCALAR_QUARANTINE=off"; return; }
        var path = Path.Combine(AppContext.BaseDirectory, Library);
        try
        {
            if (!File.Exists(path)) { Problem = $"{path} is missing (built by GanService.Gan.csproj with cc)"; return; }
            var loaded = NativeLibrary.Load(path);
            if (!Ready(loaded)) { Problem = "libLibTorchSharp.so's THSTorch_dispose_scalar was not found"; return; }
            NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, (name, _, _) => name == "LibTorchSharp" ? loaded : IntPtr.Zero);
            handle = loaded;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or InvalidOperationException or EntryPointNotFoundException)
        {
            // InvalidOperationException: something else set TorchSharp's resolver first.
            Problem = e.Message;
        }
    }

    /// <summary>Scalars freed through the quarantine since the process started, and those it holds now.</summary>
    public static (ulong Disposed, ulong Holding) Counts()
    {
        if (!Installed) return (0, 0);
        ulong disposed, holding;
        unsafe
        {
            var counts = (delegate* unmanaged<ulong*, ulong*, void>)NativeLibrary.GetExport(handle, "GanService_scalar_quarantine_counts");
            counts(&disposed, &holding);
        }
        return (disposed, holding);
    }

    private static unsafe bool Ready(IntPtr library) =>
        NativeLibrary.TryGetExport(library, "GanService_scalar_quarantine_ready", out var ready)
        && ((delegate* unmanaged<int>)ready)() != 0;
}
