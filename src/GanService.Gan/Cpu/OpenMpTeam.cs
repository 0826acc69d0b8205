using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace GanService.Gan.Cpu;

/// <summary>
/// Runs a kernel of ours on the calling thread's OpenMP team, the same threads libtorch's operations run on. On the
/// .NET thread pool the kernel's second part waited for a core that libtorch's OpenMP worker, still spinning after
/// the operation before, was holding; on the team that worker takes the part at once. Where libtorch was built
/// without GNU OpenMP the parts run on the thread pool.
/// </summary>
internal static unsafe class OpenMpTeam
{
    private static readonly delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void> Parallel;
    private static readonly delegate* unmanaged<int> ThreadNumber;

    static OpenMpTeam()
    {
        // libtorch's own libgomp (its file name carries a hash) is reached through libtorch: a symbol lookup on a
        // library's handle searches that library's dependencies too.
        if (
            NativeLibrary.TryLoad("libtorch_cpu.so", typeof(torch).Assembly, null, out var library)
            && NativeLibrary.TryGetExport(library, "GOMP_parallel", out var parallel)
            && NativeLibrary.TryGetExport(library, "omp_get_thread_num", out var threadNumber)
        )
        {
            Parallel = (delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void>)parallel;
            ThreadNumber = (delegate* unmanaged<int>)threadNumber;
        }
    }

    /// <summary>Whether the parts run on the team: libtorch's GNU OpenMP was found and the fast path is on.</summary>
    public static bool Available => Parallel != null && FastPaths.Current.OpenMpTeam;

    /// <summary>
    /// Runs <paramref name="body"/>(part) for parts 0 to <paramref name="parts"/> - 1 at once and waits for all.
    /// </summary>
    public static void For(int parts, Action<int> body)
    {
        if (parts <= 1)
        {
            body(0);
            return;
        }
        if (!Available)
        {
            System.Threading.Tasks.Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, body);
            return;
        }
        var work = new Work(body);
        var handle = GCHandle.Alloc(work);
        try
        {
            Parallel(&Run, GCHandle.ToIntPtr(handle), (uint)parts, 0);
        }
        finally
        {
            handle.Free();
        }
        work.Failure?.Throw();
    }

    /// <summary>
    /// Splits 0 to <paramref name="count"/> into <paramref name="parts"/> ranges as equal as can be and runs
    /// <paramref name="body"/>(part, first, end) for each at once.
    /// </summary>
    public static void ForRanges(long count, int parts, Action<int, long, long> body) =>
        For(parts, part => body(part, count * part / parts, count * (part + 1) / parts));

    private sealed class Work(Action<int> body)
    {
        public readonly Action<int> Body = body;
        public ExceptionDispatchInfo? Failure;
    }

    // An exception must not cross into OpenMP's native frames: it is kept and thrown again on the calling thread.
    [UnmanagedCallersOnly]
    private static void Run(nint state)
    {
        var work = (Work)GCHandle.FromIntPtr(state).Target!;
        try
        {
            work.Body(ThreadNumber());
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref work.Failure, ExceptionDispatchInfo.Capture(e), null);
        }
    }
}
