using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using GanService.Auth;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Events;

/// <summary>The <c>Gan:Events</c> section.</summary>
public sealed class EventOptions
{
    public const string Section = "Gan:Events";

    /// <summary>Open event streams one host serves; more are a 503 with Retry-After.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int MaxStreams { get; set; } = 1000;
}

/// <summary>
/// The streams themselves: subscribe first, then replay what is stored after the client's cursor, then send live
/// events, skipping any the replay already sent (an event can commit while the replay reads).
/// </summary>
public sealed class JobEventStreams(
    JobEventHub hub,
    JobEventReader reader,
    IDbContextFactory<GanDbContext> contexts,
    IOptions<EventOptions> options
)
{
    /// <summary>Streams reading the database at once on this host (checking, replaying).</summary>
    public const int ConcurrentReads = 4;

    // A reconnect storm (every client of a restarted host at once) must queue here, not open a database connection
    // each: PostgreSQL refuses clients past max_connections, and the service's own work needs them.
    private readonly SemaphoreSlim reads = new(ConcurrentReads);

    public int MaxStreams => options.Value.MaxStreams;

    /// <summary>Runs a stream's database read once one of <see cref="ConcurrentReads"/> slots is free.</summary>
    public async Task<T> ReadAsync<T>(Func<Task<T>> read, CancellationToken ct)
    {
        await reads.WaitAsync(ct);
        try
        {
            return await read();
        }
        finally
        {
            reads.Release();
        }
    }

    public bool Full => hub.Count >= MaxStreams;

    /// <summary>
    /// A job's stream. <paramref name="opened"/> runs once it is subscribed, before anything is read: the endpoint
    /// sends the response's headers there, so a client knows the stream is open before its first event.
    /// </summary>
    public async IAsyncEnumerable<SseItem<JobEvent>> JobAsync(
        Guid jobId,
        long after,
        Func<CancellationToken, Task> opened,
        [EnumeratorCancellation] CancellationToken ct
    )
    {
        using var subscription = hub.Subscribe(jobId, null, everyOwner: false);
        await opened(ct);
        var replayed = new HashSet<long>();
        // The whole history is replayed, past any final status in it: a job continued after it ended has events
        // after that one. Whether the stream then ends is the job row's to say.
        await foreach (var e in ReplayAsync(jobId, null, everyOwner: false, after, ct))
        {
            replayed.Add(e.Id!.Value);
            yield return Item(e);
        }
        var (finished, progress) = await ReadAsync(
            async () =>
            {
                await using var db = await contexts.CreateDbContextAsync(ct);
                var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId, ct);
                // Deleted, or its final status was sent before the cursor: nothing more will come.
                if (job is null || job.IsFinished)
                    return (true, []);
                return (false, job.Status == JobStatus.Running ? await reader.ProgressAsync(db, [jobId], ct) : []);
            },
            ct
        );
        if (finished)
            yield break;
        foreach (var (e, _) in progress)
            yield return Item(e);
        await foreach (var e in subscription.Events.ReadAllAsync(ct))
        {
            if (e.Id is { } id && replayed.Contains(id))
                continue;
            yield return Item(e);
            if (e.Ends)
                yield break;
        }
    }

    /// <summary>All the caller's jobs' stream; <paramref name="opened"/> as for <see cref="JobAsync"/>.</summary>
    public async IAsyncEnumerable<SseItem<JobEvent>> AllAsync(
        Caller caller,
        long? after,
        Func<CancellationToken, Task> opened,
        [EnumeratorCancellation] CancellationToken ct
    )
    {
        using var subscription = hub.Subscribe(null, caller.Owner, everyOwner: caller.IsAdmin);
        await opened(ct);
        var replayed = new HashSet<long>();
        if (after is { } cursor)
            await foreach (var e in ReplayAsync(null, caller.Owner, caller.IsAdmin, cursor, ct))
            {
                replayed.Add(e.Id!.Value);
                yield return Item(e);
            }
        await foreach (var e in subscription.Events.ReadAllAsync(ct))
            if (e.Id is not { } id || !replayed.Contains(id))
                yield return Item(e);
    }

    private async IAsyncEnumerable<JobEvent> ReplayAsync(
        Guid? jobId,
        string? owner,
        bool everyOwner,
        long after,
        [EnumeratorCancellation] CancellationToken ct
    )
    {
        while (true)
        {
            var page = await ReadAsync(
                async () =>
                {
                    await using var db = await contexts.CreateDbContextAsync(ct);
                    return await reader.AfterAsync(db, jobId, owner, everyOwner, after, ct);
                },
                ct
            );
            foreach (var (e, _) in page.Events)
                yield return e;
            if (!page.More)
                yield break;
            after = page.LastId;
        }
    }

    private static SseItem<JobEvent> Item(JobEvent e) => new(e, e.Type) { EventId = e.Id?.ToString() };
}
