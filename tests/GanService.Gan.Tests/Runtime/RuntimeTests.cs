using System.Runtime.InteropServices;
using GanService.Gan.Runtime;

namespace GanService.Gan.Tests.Runtime;

public class RuntimeTests
{
    [Fact]
    public void The_allocator_settings_take_effect_on_glibc_linux()
    {
        if (!OperatingSystem.IsLinux())
            return;
        Assert.True(
            TorchRuntime.TuneAllocator(),
            "mallopt was not applied: DCGAN steps ran 1.6x slower without it here"
        );
        Assert.True(TorchRuntime.TuneAllocator()); // idempotent
    }

    [Fact]
    public void A_thread_of_its_own_reuses_the_memory_of_large_buffers_it_freed()
    {
        if (!OperatingSystem.IsLinux())
            return;
        Assert.True(TorchRuntime.TuneAllocator());
        const int size = 64 * 64 * 28 * 28 * sizeof(float); // one activation of the DCGAN's 28x28 block
        long faults = 0;
        // As a training step does: a thread other than the first, its arena's first 64 MiB heap filled by buffers
        // that stay, and one more buffer allocated, written and freed again and again (it needs a second heap).
        var thread = new Thread(() =>
        {
            var held = Enumerable.Range(0, 5).Select(_ => Written(Marshal.AllocHGlobal(size), size)).ToList();
            void Cycle() => Marshal.FreeHGlobal(Written(Marshal.AllocHGlobal(size), size));
            Cycle();
            long before = MinorFaults();
            for (int i = 0; i < 5; i++)
                Cycle();
            faults = MinorFaults() - before;
            held.ForEach(Marshal.FreeHGlobal);
        });
        thread.Start();
        thread.Join();
        // Without the top pad glibc unmapped the emptied heap every time: each cycle faulted in all 3,136 pages again.
        Assert.True(
            faults < 3136,
            $"{faults} page faults in 5 cycles of a {size}-byte buffer: freed memory went back to the kernel"
        );
    }

    /// <summary>Writes every page (malloc's memory costs a page fault at its first write, not at allocation).</summary>
    private static IntPtr Written(IntPtr buffer, int size)
    {
        for (int offset = 0; offset < size; offset += Ones.Length)
            Marshal.Copy(Ones, 0, buffer + offset, Math.Min(Ones.Length, size - offset));
        return buffer;
    }

    // One source for every write, allocated once: a fresh managed array would bring page faults of its own.
    private static readonly byte[] Ones = Enumerable.Repeat((byte)1, 1 << 20).ToArray();

    /// <summary>The calling thread's minor page faults: field 10 of /proc/thread-self/stat.</summary>
    private static long MinorFaults() =>
        long.Parse(
            File.ReadAllText("/proc/thread-self/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[
                7
            ]
        );

    [Fact]
    public void OpenMP_threads_spin_briefly_unless_the_environment_says_otherwise()
    {
        if (!OperatingSystem.IsLinux())
            return;
        // .NET's copy of the environment is the one the process started with: what an operator may have set.
        string expected = Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") ?? TorchRuntime.OpenMpSpinCount;
        Assert.Equal(expected, TorchRuntime.ShortenOpenMpSpin());
        Assert.Equal(expected, TorchRuntime.ShortenOpenMpSpin()); // idempotent
    }

    [Fact]
    public void Cpu_and_auto_resolve_to_the_device_this_machine_has()
    {
        Assert.Equal(TorchSharp.DeviceType.CPU, TorchRuntime.ResolveDevice("cpu").type);
        Assert.Equal(
            TorchRuntime.CudaAvailable ? TorchSharp.DeviceType.CUDA : TorchSharp.DeviceType.CPU,
            TorchRuntime.ResolveDevice("auto").type
        );
    }

    [Fact]
    public void Cuda_without_a_gpu_is_an_error_that_says_so()
    {
        if (TorchRuntime.CudaAvailable)
            Assert.Equal(TorchSharp.DeviceType.CUDA, TorchRuntime.ResolveDevice("cuda").type);
        else
            Assert.Contains(
                "cuda",
                Assert.Throws<DeviceUnavailableException>(() => TorchRuntime.ResolveDevice("cuda")).Message
            );
    }

    [Fact]
    public void An_unknown_device_is_refused() =>
        Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("tpu"));

    [Fact]
    public async Task Inference_threads_render_single_threaded_at_idle_priority_and_pass_errors_back()
    {
        int before = TorchSharp.torch.get_num_threads();
        using var threads = new InferenceThreads(2, ThreadPriorityClass.Idle);
        Assert.Equal(before, TorchSharp.torch.get_num_threads());
        Assert.Equal(
            before,
            await Task.Factory.StartNew(() => TorchSharp.torch.get_num_threads(), TaskCreationOptions.LongRunning)
        ); // a new thread's default is untouched
        var results = await Task.WhenAll(
            Enumerable
                .Range(0, 6)
                .Select(_ =>
                    threads.RunAsync(() =>
                        (
                            Policy: SchedulingPolicy(),
                            Torch: TorchSharp.torch.get_num_threads(),
                            Environment.CurrentManagedThreadId
                        )
                    )
                )
        );
        Assert.All(results, r => Assert.Equal(1, r.Torch));
        if (OperatingSystem.IsLinux())
            Assert.All(results, r => Assert.Equal(SchedIdle, r.Policy));
        Assert.True(results.Select(r => r.CurrentManagedThreadId).Distinct().Count() <= 2);
        Assert.Equal(0, SchedulingPolicy()); // the caller's thread keeps the normal class
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            threads.RunAsync<int>(() => throw new InvalidOperationException("render failed"))
        );
        Assert.Equal("render failed", error.Message);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => threads.RunAsync(() => 1, cancelled.Token));
    }

    [Fact]
    public void Work_on_its_own_thread_gets_its_thread_count_changes_no_other_thread_and_passes_errors_back()
    {
        int caller = TorchSharp.torch.get_num_threads();
        int others = TorchRuntime.DefaultThreads();
        var (count, name, id) = TorchRuntime.RunOnOwnThread("training", 2, () =>
            (TorchSharp.torch.get_num_threads(), Thread.CurrentThread.Name, Environment.CurrentManagedThreadId)
        );
        Assert.Equal((2, "training"), (count, name));
        Assert.NotEqual(Environment.CurrentManagedThreadId, id);
        Assert.Equal(caller, TorchSharp.torch.get_num_threads());
        Assert.Equal(others, TorchRuntime.DefaultThreads());
        var error = Assert.Throws<InvalidOperationException>(() =>
            TorchRuntime.RunOnOwnThread("training", 1, () => throw new InvalidOperationException("step failed"))
        );
        Assert.Equal("step failed", error.Message);
        Assert.Contains(
            nameof(Work_on_its_own_thread_gets_its_thread_count_changes_no_other_thread_and_passes_errors_back),
            error.StackTrace
        );
    }

    [Fact]
    public void The_default_count_reaches_threads_that_never_set_their_own_and_no_others()
    {
        int caller = TorchSharp.torch.get_num_threads();
        int before = TorchRuntime.DefaultThreads();
        try
        {
            TorchRuntime.SetDefaultThreads(1);
            Assert.Equal(1, TorchRuntime.DefaultThreads());
            Assert.Equal(caller, TorchSharp.torch.get_num_threads());
            Assert.Equal(2, TorchRuntime.RunOnOwnThread("training", 2, TorchSharp.torch.get_num_threads));
            // a thread that sets its own leaves the default as it found it
            Assert.Equal(1, TorchRuntime.DefaultThreads());
        }
        finally
        {
            TorchRuntime.SetDefaultThreads(before);
        }
    }

    private const int SchedIdle = 5;

    /// <summary>
    /// The calling thread's scheduling policy: field 41 of /proc/thread-self/stat (0 is SCHED_OTHER).
    /// </summary>
    private static int SchedulingPolicy() =>
        OperatingSystem.IsLinux()
            ? int.Parse(
                File.ReadAllText("/proc/thread-self/stat")
                    .Split(')')[^1]
                    .Split(' ', StringSplitOptions.RemoveEmptyEntries)[38]
            )
            : 0;
}
