using GanService.Persistence;
using Microsoft.EntityFrameworkCore;

namespace GanService.Jobs.Worker;

/// <summary>
/// Polls a job's cancel flag off the training thread and fires a token when it is set, so a cancel stops training
/// within one step plus the poll interval, with no database round trip inside the training loop. While progress
/// writes bring the flag (<see cref="Observe"/>) at least once an interval, the poll is skipped: a query each second
/// costs training's two OpenMP threads more than it looks on two cores.
/// </summary>
public sealed class CancellationWatcher : IDisposable
{
    private readonly IDbContextFactory<GanDbContext> contexts;
    private readonly Guid jobId;
    private readonly CancellationTokenSource target;
    private readonly Timer timer;
    private readonly TimeSpan interval;
    private long lastRead = Environment.TickCount64;

    public CancellationWatcher(
        IDbContextFactory<GanDbContext> contexts,
        Guid jobId,
        TimeSpan interval,
        CancellationTokenSource target
    )
    {
        this.contexts = contexts;
        this.jobId = jobId;
        this.target = target;
        this.interval = interval;
        timer = new Timer(_ => Tick(), null, interval, Timeout.InfiniteTimeSpan);
    }

    public bool CancelRequested { get; private set; }

    /// <summary>The cancel flag as some other query of the job's row just read it.</summary>
    public void Observe(bool cancelRequested)
    {
        Volatile.Write(ref lastRead, Environment.TickCount64);
        if (cancelRequested)
            Cancel();
    }

    private void Cancel()
    {
        CancelRequested = true;
        target.Cancel();
    }

    /// <summary>
    /// Polls unless some other read is younger than the interval, then waits until the flag is an interval old again.
    /// </summary>
    private void Tick()
    {
        var age = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref lastRead));
        if (age >= interval)
        {
            Poll();
            age = TimeSpan.Zero;
        }
        try
        {
            timer.Change(interval - age, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed while this tick ran: the job is over.
        }
    }

    private void Poll()
    {
        try
        {
            using var db = contexts.CreateDbContext();
            // A job deleted meanwhile has no row: it stops as a cancelled one does, and its fenced writes fail.
            if (db.Jobs.Where(j => j.Id == jobId).Select(j => (bool?)j.CancelRequested).SingleOrDefault() != false)
                Cancel();
            Volatile.Write(ref lastRead, Environment.TickCount64);
        }
        catch (Exception)
        {
            // A missed poll only delays a cancel until the next one.
        }
    }

    public void Dispose()
    {
        using var done = new ManualResetEvent(false);
        timer.Dispose(done);
        done.WaitOne(TimeSpan.FromSeconds(5));
    }
}
