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

    /// <summary>
    /// A quiet stream sends a comment this often, so that proxies which close idle connections (nginx after 60 s by
    /// default) keep it, and a client can tell a quiet stream from a dead one.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>
/// The streams themselves: subscribe first, then replay what is stored after the client's cursor, then send live
/// events, skipping any the replay already sent (an event can commit while the replay reads). Each stream writes a
/// comment through its <c>comment</c> callback as it opens (so the client has the headers and a first byte at once)
/// and whenever it has been quiet for <see cref="EventOptions.Heartbeat"/>.
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
    /// A job's stream. <paramref name="comment"/> writes an SSE comment: "open" once it is subscribed, before
    /// anything is read, so a client knows the stream is open before its first event; then heartbeats.
    /// </summary>
    public async IAsyncEnumerable<SseItem<JobEvent>> JobAsync(
        Guid jobId,
        long after,
        Func<string, CancellationToken, Task> comment,
        [EnumeratorCancellation] CancellationToken ct
    )
    {
        using var subscription = hub.Subscribe(jobId, null, everyOwner: false);
        await comment("open", ct);
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
        await foreach (var e in LiveAsync(subscription, comment, ct))
        {
            if (e.Id is { } id && replayed.Contains(id))
                continue;
            yield return Item(e);
            if (e.Ends)
                yield break;
        }
    }

    /// <summary>All the caller's jobs' stream; <paramref name="comment"/> as for <see cref="JobAsync"/>.</summary>
    public async IAsyncEnumerable<SseItem<JobEvent>> AllAsync(
        Caller caller,
        long? after,
        Func<string, CancellationToken, Task> comment,
        [EnumeratorCancellation] CancellationToken ct
    )
    {
        using var subscription = hub.Subscribe(null, caller.Owner, everyOwner: caller.IsAdmin);
        await comment("open", ct);
        var replayed = new HashSet<long>();
        if (after is { } cursor)
            await foreach (var e in ReplayAsync(null, caller.Owner, caller.IsAdmin, cursor, ct))
            {
                replayed.Add(e.Id!.Value);
                yield return Item(e);
            }
        await foreach (var e in LiveAsync(subscription, comment, ct))
            if (e.Id is not { } id || !replayed.Contains(id))
                yield return Item(e);
    }

    /// <summary>The subscription's live events, with a heartbeat comment after each quiet interval.</summary>
    private async IAsyncEnumerable<JobEvent> LiveAsync(
        JobEventHub.Subscription subscription,
        Func<string, CancellationToken, Task> comment,
        [EnumeratorCancellation] CancellationToken ct
    )
    {
        var events = subscription.Events;
        while (true)
        {
            while (events.TryRead(out var e))
                yield return e;
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
            quiet.CancelAfter(options.Value.Heartbeat);
            bool more;
            try
            {
                more = await events.WaitToReadAsync(quiet.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await comment("heartbeat", ct);
                continue;
            }
            if (!more)
                yield break; // the hub closed a subscriber that fell behind: its client reconnects
        }
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
