using GanService.Gan.Checkpoints;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Jobs.Worker;
using GanService.Persistence;
using GanService.Quotas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Checkpoints;

public sealed class PostgresCheckpointStore(
    IDbContextFactory<GanDbContext> contexts,
    FaultInjection faults,
    IOptions<QuotaOptions> quotas,
    Retention.CheckpointVacuum vacuum,
    ILogger<PostgresCheckpointStore> logger
) : ICheckpointStore
{
    public async Task SaveAsync(
        JobLease lease,
        long step,
        byte[] bundle,
        string sha256,
        byte[] previewPng,
        CancellationToken cancellationToken
    )
    {
        if (CheckpointBundle.Sha256(bundle) != sha256)
            throw new InvalidOperationException("A checkpoint bundle changed between serialisation and storage.");
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Database.SetCommandTimeout(CheckpointIo.CommandTimeout(bundle.LongLength + previewPng.LongLength));
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await JobFence.HoldAsync(db, lease, cancellationToken);
        // A re-run after a crash may reach a step that already has a checkpoint: the newer write replaces it.
        await db.Checkpoints.Where(c => c.JobId == lease.JobId && c.Step == step).ExecuteDeleteAsync(cancellationToken);
        // Retention in the same transaction as the insert, before the quota counts the owner's bytes: the job is never
        // left without its newest checkpoints, and what retention frees counts for this one.
        int pruned = await Retention.CheckpointRetention.PruneAsync(db, lease.JobId, incoming: 1, cancellationToken);
        await StorageQuotaExceededException.ThrowIfOverAsync(
            db,
            lease.JobId,
            step,
            bundle.LongLength,
            quotas.Value,
            cancellationToken
        );
        db.Checkpoints.Add(
            new Checkpoint
            {
                JobId = lease.JobId,
                Step = step,
                Attempt = lease.Attempt,
                CreatedAt = DateTimeOffset.UtcNow,
                SizeBytes = bundle.LongLength,
                Sha256 = sha256,
                Bundle = bundle,
                PreviewPng = previewPng,
            }
        );
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (UniqueViolation.Is(e))
        {
            // A save of this very step by this attempt whose commit went through although its caller saw it
            // cancelled: the step's weights are stored already (the bundles differ only in their creation time).
            if (await StoredByAttemptAsync(lease, step, cancellationToken))
                return;
            throw;
        }
        faults.BeforeCheckpointCommit(step, cancellationToken);
        // Once decided, the commit runs to its end: cancelled halfway, it could succeed on the server while the
        // caller believes it failed and saves the step again.
        await transaction.CommitAsync(CancellationToken.None);
        if (pruned > 0)
            vacuum.Request();
    }

    private async Task<bool> StoredByAttemptAsync(JobLease lease, long step, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Checkpoints.AnyAsync(
            c => c.JobId == lease.JobId && c.Step == step && c.Attempt == lease.Attempt,
            ct
        );
    }

    public async Task<StoredCheckpoint?> LoadAsync(Guid jobId, long step, CancellationToken cancellationToken)
    {
        long? size;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
            size = await db
                .Checkpoints.Where(c => c.JobId == jobId && c.Step == step)
                .Select(c => (long?)c.SizeBytes)
                .SingleOrDefaultAsync(cancellationToken);
        return size is null
            ? null
            : await GetAsync(jobId, step, CheckpointIo.CommandTimeout(size.Value), cancellationToken);
    }

    public async Task<StoredCheckpoint?> LatestVerifiedAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var steps = await db
            .Checkpoints.Where(c => c.JobId == jobId)
            .OrderByDescending(c => c.Step)
            .Select(c => new { c.Step, c.SizeBytes })
            .ToListAsync(cancellationToken);
        foreach (var (step, size) in steps.Select(s => (s.Step, s.SizeBytes)))
        {
            var stored = await GetAsync(jobId, step, CheckpointIo.CommandTimeout(size), cancellationToken);
            if (stored is not null && CheckpointBundle.Sha256(stored.Bundle) == stored.Sha256)
                return stored;
            logger.LogWarning(
                "Checkpoint of job {JobId} at step {Step} fails its checksum; trying an older one.",
                jobId,
                step
            );
        }
        return null;
    }

    /// <summary>
    /// Bundle bytes this store has read from PostgreSQL since the host started, whole bundles and ranges alike.
    /// </summary>
    public long BundleBytesRead => Interlocked.Read(ref bundleBytesRead);

    private long bundleBytesRead;

    public async Task<Stream?> OpenBundleAsync(Guid jobId, long step, CancellationToken cancellationToken)
    {
        var db = await contexts.CreateDbContextAsync(cancellationToken);
        try
        {
            var row = await db
                .Checkpoints.Where(c => c.JobId == jobId && c.Step == step)
                .Select(c => new { c.Id, c.SizeBytes })
                .SingleOrDefaultAsync(cancellationToken);
            if (row is null)
            {
                await db.DisposeAsync();
                return null;
            }
            // One connection for all of the stream's queries, returned to the pool when it is disposed.
            await db.Database.OpenConnectionAsync(cancellationToken);
            return new BundleRangeStream(db, row.Id, row.SizeBytes, n => Interlocked.Add(ref bundleBytesRead, n));
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    private async Task<StoredCheckpoint?> GetAsync(
        Guid jobId,
        long step,
        TimeSpan timeout,
        CancellationToken cancellationToken
    )
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Database.SetCommandTimeout(timeout);
        var stored = await db
            .Checkpoints.AsNoTracking()
            .Where(c => c.JobId == jobId && c.Step == step)
            .Select(c => new StoredCheckpoint(c.Step, c.Sha256, c.Bundle))
            .SingleOrDefaultAsync(cancellationToken);
        Interlocked.Add(ref bundleBytesRead, stored?.Bundle.LongLength ?? 0);
        return stored;
    }
}
