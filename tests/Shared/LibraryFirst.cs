using System.Runtime.CompilerServices;
using GanService.Gan.Cpu;
using GanService.Gan.Runtime;

namespace GanService.Testing;

/// <summary>
/// Loads the GAN library before any test calls TorchSharp directly, so its finalizer quarantine is in place before
/// TorchSharp binds its native functions (see <see cref="FinalizerQuarantine"/>), and makes sure libtorch's
/// convolutions are right on this CPU before any test runs one.
/// </summary>
internal static class LibraryFirst
{
#pragma warning disable CA2255 // a test assembly's start-up, which is what module initializers are for
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Load()
    {
        RuntimeHelpers.RunModuleConstructor(typeof(FinalizerQuarantine).Module.ModuleHandle);
        // Tests that build layers directly get the convolutions the library's factories would (see OneDnnCheck).
        OneDnnCheck.Ensure();
    }
}
