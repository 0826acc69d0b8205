using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace GanService.Gan.Runtime;

/// <summary>
/// libtorch's intra-op threads. OpenMP keeps the count per thread (measured: a thread set to 1 uses one core while
/// another set to 2 uses two), and every thread that once ran a multi-threaded operation keeps an OpenMP team for as
/// long as it lives. With more such threads than cores, GNU OpenMP stops spinning between parallel regions and puts
/// its threads to sleep instead, so every step pays for wake-ups: one idle thread that had run a single 2-thread
/// matmul made DCGAN training on another thread 11% slower for the rest of the process (docs/benchmarks.md).
/// Hence: training runs on a thread of its own that ends with it, and a host runs everything else single-threaded.
/// </summary>
public static partial class TorchRuntime
{
    /// <summary>
    /// GNU OpenMP's spin before a waiting thread sleeps, set by <see cref="ShortenOpenMpSpin"/> (its default: 300,000).
    /// </summary>
    public const string OpenMpSpinCount = "10000";

    /// <summary>
    /// Shortens how long libtorch's OpenMP threads busy-wait between parallel regions, unless GOMP_SPINCOUNT is already
    /// set. With the default spin a training job's threads spin through every gap of its step, and renders at the
    /// idle priority got 10-26 images/s on a training host; with 10,000 they got 43-118 while training next to 32
    /// sampling clients changed by -1% to +6%; with 3,000 renders got more but training lost up to 18%
    /// (docs/benchmarks.md). GNU OpenMP reads it once, when libtorch loads: call this first thing in the process.
    /// Returns the value in force.
    /// </summary>
    public static string ShortenOpenMpSpin()
    {
        if (!OperatingSystem.IsLinux())
            return "";
        try
        {
            setenv("GOMP_SPINCOUNT", OpenMpSpinCount, 0);
            return Marshal.PtrToStringAnsi(getenv("GOMP_SPINCOUNT")) ?? "";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "";
        }
    }

    // .NET keeps its own copy of the environment: libgomp reads the C library's.
    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc.so.6", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);

    /// <summary>
    /// The calling thread's count. libtorch also stores it as the default of threads that have not yet run a parallel
    /// operation; that default is put back as it was, so no other thread changes.
    /// </summary>
    public static void SetThreads(int threads)
    {
        threads = Math.Max(1, threads);
        // One at a time: two threads setting theirs at once could each read the other's count as the default.
        lock (DefaultLock)
        {
            int others = DefaultThreads();
            // A thread's first parallel operation would otherwise (re)apply the default over the count set here.
            torch.get_num_threads();
            torch.set_num_threads(threads);
            if (others != threads)
                OnNewThread(null, () => SetOwn(others));
        }
    }

    /// <summary>
    /// The count of every thread that never sets its own (a host makes it one: see the class remarks).
    /// </summary>
    public static void SetDefaultThreads(int threads)
    {
        lock (DefaultLock)
            OnNewThread(null, () => SetOwn(Math.Max(1, threads)));
    }

    /// <summary>The count a thread that never sets its own gets, read on such a thread.</summary>
    public static int DefaultThreads() => OnNewThread(null, torch.get_num_threads);

    private static readonly Lock DefaultLock = new();

    /// <summary>
    /// Runs <paramref name="work"/> on a new thread with <paramref name="threads"/> libtorch threads and waits for it;
    /// its OpenMP team ends with it. Exceptions reach the caller with their original stack.
    /// </summary>
    public static T RunOnOwnThread<T>(string name, int threads, Func<T> work) => OnNewThread(name, () =>
        {
            SetThreads(threads);
            return work();
        });

    public static void RunOnOwnThread(string name, int threads, Action work) => RunOnOwnThread(name, threads, () =>
        {
            work();
            return 0;
        });

    private static int SetOwn(int threads)
    {
        torch.set_num_threads(threads);
        return threads;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a new thread and waits for it, exceptions passed back with their stack. Used
    /// unnamed to read or set the default: such a thread runs no parallel operation, so it never starts an OpenMP team.
    /// </summary>
    private static T OnNewThread<T>(string? name, Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            Name = name,
            IsBackground = true,
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
