using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Retention;

/// <summary>
/// Runs a plain <c>VACUUM gan.checkpoints</c> soon after checkpoints are deleted, so that the TOAST pages of the
/// bundles they held are free for the next ones: autovacuum wakes once a minute at best, and a busy job writes many
/// bundles in a minute, growing the table by each. Requests that arrive during the delay or a run share one run.
/// VACUUM runs outside any transaction and does not block writers.
/// </summary>
public sealed class CheckpointVacuum(
    IDbContextFactory<GanDbContext> contexts,
    IOptions<RetentionOptions> options,
    ILogger<CheckpointVacuum> logger
) : BackgroundService
{
    private readonly SemaphoreSlim requested = new(0, 1);
    private long runs;

    /// <summary>VACUUMs finished since the host started.</summary>
    public long Runs => Interlocked.Read(ref runs);

    public void Request()
    {
        try
        {
            requested.Release();
        }
        catch (SemaphoreFullException)
        {
            // A run is already due; it will see these deletes too.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await requested.WaitAsync(stoppingToken);
            await Task.Delay(options.Value.VacuumDelay, stoppingToken);
            try
            {
                await using var db = await contexts.CreateDbContextAsync(stoppingToken);
                // It reads the TOAST pages written since the last run, which takes longer than a query may.
                db.Database.SetCommandTimeout(TimeSpan.FromMinutes(30));
                // Without truncation: cutting empty pages off the end takes an exclusive lock that stalls sampling's
                // reads, and the next bundles would only extend the table again.
                await db.Database.ExecuteSqlRawAsync("VACUUM (TRUNCATE false) gan.checkpoints", stoppingToken);
                Interlocked.Increment(ref runs);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Autovacuum frees the space later all the same (the table's settings make it prompt).
                logger.LogWarning(e, "VACUUM of gan.checkpoints failed; autovacuum will free the space later.");
            }
        }
    }
}
