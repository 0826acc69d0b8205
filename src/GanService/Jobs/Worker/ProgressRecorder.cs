using GanService.Gan.Training;
using GanService.Persistence;

namespace GanService.Jobs.Worker;

/// <summary>
/// Takes progress reports from the training thread without blocking it and writes them in batches on a background
/// task, at most one transaction per <c>minInterval</c>, retrying through database outages. Writing as each report
/// came in cost training 20% of its step speed on 2 cores (47-62% with a report every step): every write's CPU
/// stalls both of training's OpenMP threads. The buffer is bounded: past <see cref="Capacity"/> unwritten reports the
/// oldest are dropped (counted, and logged once writes succeed again) rather than letting a long outage grow memory
/// without limit. Each write also reads the job's cancel flag and hands it to <c>cancelFlagRead</c>, which saves the
/// <see cref="CancellationWatcher"/> a query of its own while progress is flowing.
/// </summary>
public sealed class ProgressRecorder : IDisposable
{
    public const int Capacity = 10_000;

    private readonly JobLedger ledger;
    private readonly JobLease lease;
    private readonly ILogger logger;
    private readonly Queue<TrainingProgress> pending = new();
    private readonly SemaphoreSlim signal = new(0),
        hurry = new(0);
    private readonly TimeSpan minInterval;
    private readonly Action<bool> cancelFlagRead;
    private readonly CancellationTokenSource stop = new();
    private readonly CancellationTokenSource leaseLost = new();
    private readonly Task writer;
    private int inFlight;
    private long dropped;

    public ProgressRecorder(
        JobLedger ledger,
        JobLease lease,
        ILogger logger,
        TimeSpan minInterval,
        Action<bool> cancelFlagRead
    )
    {
        this.cancelFlagRead = cancelFlagRead;
        this.ledger = ledger;
        this.lease = lease;
        this.logger = logger;
        this.minInterval = minInterval;
        writer = Task.Run(WriteLoop);
    }

    /// <summary>Fires when a write finds that a newer attempt owns the job.</summary>
    public CancellationToken LeaseLost => leaseLost.Token;

    public void Add(TrainingProgress report)
    {
        lock (pending)
        {
            pending.Enqueue(report);
            if (pending.Count > Capacity)
            {
                pending.Dequeue();
                Interlocked.Increment(ref dropped);
            }
        }
        signal.Release();
    }

    /// <summary>
    /// Waits until everything added so far is written; false when the timeout or the lease ran out first.
    /// </summary>
    public bool Flush(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        hurry.Release(); // write now rather than at the next interval
        while (DateTime.UtcNow < deadline && !leaseLost.IsCancellationRequested && !writer.IsCompleted)
        {
            lock (pending)
                if (pending.Count == 0 && Volatile.Read(ref inFlight) == 0)
                    return true;
            Thread.Sleep(10);
        }
        return false;
    }

    private async Task WriteLoop()
    {
        var lastWrite = DateTime.MinValue;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await signal.WaitAsync(stop.Token);
                var wait = lastWrite + minInterval - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                    await hurry.WaitAsync(wait, stop.Token);
                lastWrite = DateTime.UtcNow;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            List<TrainingProgress> batch;
            lock (pending)
            {
                batch = [.. pending];
                pending.Clear();
                Volatile.Write(ref inFlight, batch.Count);
            }
            if (batch.Count == 0)
                continue; // an earlier write took this signal's report
            try
            {
                // An outage of any length is waited out here; Capacity bounds what piles up meanwhile.
                var cancelRequested = await DatabaseOutage.RetryAsync(
                    () => ledger.RecordAsync(lease, batch, stop.Token),
                    TimeSpan.FromDays(365),
                    logger,
                    "writing progress",
                    stop.Token
                );
                cancelFlagRead(cancelRequested);
                if (Interlocked.Exchange(ref dropped, 0) is > 0 and var lost)
                    logger.LogWarning(
                        "Job {JobId}: {Count} progress reports were dropped while the database was unavailable "
                            + "(buffer of {Capacity}).",
                        lease.JobId,
                        lost,
                        Capacity
                    );
            }
            catch (LeaseLostException)
            {
                leaseLost.Cancel();
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(
                    e,
                    "Progress of job {JobId} up to step {Step} could not be written.",
                    lease.JobId,
                    batch[^1].Step
                );
            }
            finally
            {
                Volatile.Write(ref inFlight, 0);
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        try
        {
            writer.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException) { }
        stop.Dispose();
        leaseLost.Dispose();
        signal.Dispose();
        hurry.Dispose();
    }
}
