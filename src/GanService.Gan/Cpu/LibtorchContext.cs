using System.Runtime.InteropServices;

namespace GanService.Gan.Cpu;

/// <summary>
/// libtorch's process-wide backend switches in <c>at::Context</c>, which TorchSharp does not bind (see
/// <see cref="OneDnnCheck"/> and <see cref="Nnpack"/>). Callers catch <see cref="DllNotFoundException"/> and
/// <see cref="EntryPointNotFoundException"/> for libtorch builds without these symbols.
/// </summary>
internal static partial class LibtorchContext
{
    public static bool Mkldnn
    {
        get => userEnabledMkldnn(globalContext());
        set => setUserEnabledMkldnn(globalContext(), value);
    }

    public static bool Nnpack
    {
        get => userEnabledNNPACK(globalContext());
        set => setUserEnabledNNPACK(globalContext(), value);
    }

    /// <summary>
    /// Whether NNPACK can start on this CPU; where it cannot, the first call logs libtorch's warning.
    /// </summary>
    public static bool NnpackAvailable => nnpackAvailable();

    // at::globalContext(), members of at::Context (the object is the first argument in the Itanium C++ ABI) and
    // at::native::_nnpack_available().
    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr globalContext();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void setUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool userEnabledMkldnn(IntPtr context);

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void setUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool userEnabledNNPACK(IntPtr context);

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at6native17_nnpack_availableEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool nnpackAvailable();
}
