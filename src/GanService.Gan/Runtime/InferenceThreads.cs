using System.Collections.Concurrent;

namespace GanService.Gan.Runtime;

/// <summary>
/// Dedicated threads for inference (sampling, translation) on a host that also trains. Each runs libtorch
/// single-threaded in a lower scheduling class (idle by default): renders use at most <see cref="Count"/> cores and
/// take only what training leaves, yet still get the gaps of every step. Before, one render used every libtorch
/// thread of the process at normal priority and cost training 30% of its steps (docs/benchmarks.md).
/// </summary>
public sealed class InferenceThreads : IDisposable
{
    private readonly BlockingCollection<Action> work = new();
    private readonly Thread[] threads;
    private readonly ThreadPriorityClass priority;

    /// <param name="count">Threads, one render each at a time.</param>
    /// <param name="priority">Their scheduling class; training threads keep the normal one.</param>
    public InferenceThreads(int count, ThreadPriorityClass priority)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        this.priority = priority;
        using var started = new CountdownEvent(count);
        threads = Enumerable
            .Range(0, count)
            .Select(i => new Thread(() => Serve(started)) { IsBackground = true, Name = $"inference-{i}" })
            .ToArray();
        foreach (var thread in threads)
            thread.Start();
        started.Wait();
    }

    public int Count => threads.Length;

    /// <summary>
    /// Runs <paramref name="render"/> on one of the threads; a request cancelled while waiting never runs.
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> render, CancellationToken ct = default) => RunAsync(_ => render(), ct);

    /// <summary>
    /// As above, and the render is handed <paramref name="ct"/> to observe between its chunks, so a cancelled or
    /// overdue request stops its render instead of holding the thread to the end.
    /// </summary>
    public Task<T> RunAsync<T>(Func<CancellationToken, T> render, CancellationToken ct)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(
            () =>
            {
                if (ct.IsCancellationRequested)
                {
                    done.TrySetCanceled(ct);
                    return;
                }
                try
                {
                    done.TrySetResult(render(ct));
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    done.TrySetCanceled(ct);
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                }
            },
            CancellationToken.None
        );
        return done.Task;
    }

    private void Serve(CountdownEvent started)
    {
        TorchRuntime.LowerCurrentThreadPriority(priority);
        TorchRuntime.SetThreads(1);
        started.Signal();
        foreach (var item in work.GetConsumingEnumerable())
            item();
    }

    public void Dispose()
    {
        work.CompleteAdding();
        foreach (var thread in threads)
            thread.Join();
        work.Dispose();
    }
}
