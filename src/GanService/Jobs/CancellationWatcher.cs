using GanService.Persistence;
using Microsoft.EntityFrameworkCore;

namespace GanService.Jobs;

/// <summary>
/// Polls a job's cancel flag off the training thread and fires a token when it is set, so a cancel stops training
/// within one step plus the poll interval, with no database round trip inside the training loop.
/// </summary>
public sealed class CancellationWatcher : IDisposable
{
    private readonly IDbContextFactory<GanDbContext> contexts;
    private readonly Guid jobId;
    private readonly CancellationTokenSource target;
    private readonly Timer timer;
    private int polling;

    public CancellationWatcher(IDbContextFactory<GanDbContext> contexts, Guid jobId, TimeSpan interval, CancellationTokenSource target)
    {
        this.contexts = contexts;
        this.jobId = jobId;
        this.target = target;
        timer = new Timer(_ => Poll(), null, interval, interval);
    }

    public bool CancelRequested { get; private set; }

    private void Poll()
    {
        if (Interlocked.Exchange(ref polling, 1) == 1) return;
        try
        {
            using var db = contexts.CreateDbContext();
            if (db.Jobs.Where(j => j.Id == jobId).Select(j => j.CancelRequested).SingleOrDefault())
            {
                CancelRequested = true;
                target.Cancel();
            }
        }
        catch (Exception)
        {
            // A missed poll only delays a cancel until the next one.
        }
        finally
        {
            Volatile.Write(ref polling, 0);
        }
    }

    public void Dispose()
    {
        using var done = new ManualResetEvent(false);
        timer.Dispose(done);
        done.WaitOne(TimeSpan.FromSeconds(5));
    }
}
