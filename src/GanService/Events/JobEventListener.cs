using System.Threading.Channels;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace GanService.Events;

/// <summary>
/// The host's one <c>LISTEN</c> connection. The database's triggers notify channel <see cref="Channel"/> as each
/// change commits: <c>e,ID</c> for a stored event, <c>p,JOB</c> for progress; deleting a job sends
/// <c>d,JOB,OWNER</c> (<see cref="DeletedNote"/>). Notifications are read in batches,
/// each batch in one query per kind, and published to the hub; with no stream open, nothing is read. After a lost
/// connection the listener reconnects and first publishes the stored events it missed.
/// </summary>
public sealed class JobEventListener(
    IConfiguration configuration,
    IDbContextFactory<GanDbContext> contexts,
    JobEventReader reader,
    JobEventHub hub,
    ILogger<JobEventListener> logger
) : BackgroundService
{
    public const string Channel = "gan_events";

    /// <summary>The note a job's deletion sends in its transaction: it is heard only if the delete commits.</summary>
    public static string DeletedNote(Guid job, string? owner) => $"d,{job},{owner}";

    /// <summary>Notifications handled together: many progress notes of one job become one event.</summary>
    private const int Batch = 500;

    private readonly Channel<string> notes = System.Threading.Channels.Channel.CreateUnbounded<string>(
        new UnboundedChannelOptions { SingleReader = true }
    );

    private long lastId = -1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pump = Task.Run(() => PumpAsync(stoppingToken), stoppingToken);
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "The event listener lost its connection; reconnecting in {Delay}.", delay);
                await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
        notes.Writer.TryComplete();
        await pump.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(configuration.PostgresConnectionString())
        {
            KeepAlive = 30, // a half-open connection would otherwise wait for notifications for ever
            Pooling = false,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);
        connection.Notification += (_, e) => notes.Writer.TryWrite(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
            await listen.ExecuteNonQueryAsync(ct);
        // Events committed while there was no connection (at start: none are owed, only those from now on).
        notes.Writer.TryWrite("catch-up");
        while (true)
            await connection.WaitAsync(ct);
    }

    private async Task PumpAsync(CancellationToken ct)
    {
        var batch = new List<string>();
        while (await notes.Reader.WaitToReadAsync(ct).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result))
        {
            batch.Clear();
            while (batch.Count < Batch && notes.Reader.TryRead(out var note))
                batch.Add(note);
            try
            {
                await PublishAsync(batch, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not publish {Count} job events.", batch.Count);
            }
        }
    }

    private async Task PublishAsync(List<string> batch, CancellationToken ct)
    {
        var ids = new List<long>();
        var progress = new HashSet<Guid>();
        var deleted = new List<(Guid Job, string? Owner)>();
        bool catchUp = false;
        foreach (var note in batch)
        {
            if (note == "catch-up")
                catchUp = true;
            else if (note.StartsWith("e,") && long.TryParse(note.AsSpan(2), out var id))
                ids.Add(id);
            else if (note.StartsWith("p,") && Guid.TryParse(note.AsSpan(2), out var job))
                progress.Add(job);
            else if (note.StartsWith("d,") && note.Length >= 39 && Guid.TryParse(note.AsSpan(2, 36), out var gone))
                deleted.Add((gone, note.Length > 39 ? note[39..] : null));
        }
        if (ids.Count > 0)
            lastId = Math.Max(lastId, ids.Max());
        if (hub.Count == 0 && !catchUp)
            return;
        await using var db = await contexts.CreateDbContextAsync(ct);
        if (catchUp)
        {
            long since = lastId;
            lastId = await db.JobEvents.MaxAsync(e => (long?)e.Id, ct) ?? 0;
            if (since >= 0)
                ids.AddRange(
                    await db.JobEvents.Where(e => e.Id > since && e.Id <= lastId).Select(e => e.Id).ToListAsync(ct)
                );
        }
        if (hub.Count == 0)
            return;
        var rows = await db.JobEvents.AsNoTracking().Where(e => ids.Contains(e.Id)).OrderBy(e => e.Id).ToListAsync(ct);
        foreach (var (e, owner) in await reader.BuildAsync(db, rows, ct))
            hub.Publish(e, owner);
        if (progress.Count > 0)
            foreach (var (e, owner) in await reader.ProgressAsync(db, progress, ct))
                hub.Publish(e, owner);
        // Last: a deleted job's stored events found in this batch are already gone from the database.
        foreach (var (job, owner) in deleted)
            hub.Publish(new JobEvent(null, job, JobEventTypes.Deleted, DateTimeOffset.UtcNow), owner);
    }
}
