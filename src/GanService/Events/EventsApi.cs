using System.Net.ServerSentEvents;
using GanService.Auth;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace GanService.Events;

/// <summary>
/// Live events as Server-Sent Events: one job's stream, which ends with the job, and one for all the caller's jobs.
/// A client that reconnects with <c>Last-Event-ID</c> first gets the stored events it missed, then live ones.
/// </summary>
public static class EventsApi
{
    public const string LastEventIdHeader = "Last-Event-ID";

    public static RouteGroupBuilder MapEvents(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api").WithTags("Events").RequireAuthorization();
        group
            .MapGet("/jobs/{id:guid}/events", JobStream)
            .Produces<JobEvent>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithName("JobEvents")
            .WithSummary("A job's live events (text/event-stream): status, progress, metrics, checkpoints, evaluations")
            .WithDescription(
                "Each event's `event:` is its type and `data:` a JobEvent. Stored events carry an `id:`; reconnect "
                    + "with the Last-Event-ID header (or `lastEventId=`) to get the ones missed. Without it the stream "
                    + "starts with the job's whole history. It ends after the job's final status, or with a `deleted` "
                    + "event when the job is deleted."
            );
        group
            .MapGet("/events", AllStream)
            .Produces<JobEvent>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithName("AllJobEvents")
            .WithSummary("Live events of all the caller's jobs (every job for the admin), for a job list")
            .WithDescription(
                "Without Last-Event-ID (or `lastEventId=`) it starts with events from now on; with it, it first "
                    + "sends the stored events after that id. It stays open; a deleted job sends a `deleted` event."
            );
        return group;
    }

    private static async Task<
        Results<ServerSentEventsResult<JobEvent>, ValidationProblem, ProblemHttpResult>
    > JobStream(
        Guid id,
        Caller caller,
        GanDbContext db,
        JobEventStreams streams,
        HttpContext http,
        CancellationToken ct,
        long? lastEventId = null
    )
    {
        if (!await streams.ReadAsync(() => db.Jobs.OwnedBy(caller).AnyAsync(j => j.Id == id, ct), ct))
            return Problems.JobNotFound(id);
        return Open(streams, http, lastEventId, after =>
            streams.JobAsync(id, after ?? 0, (text, c) => CommentAsync(http, text, c), http.RequestAborted)
        );
    }

    private static Results<ServerSentEventsResult<JobEvent>, ValidationProblem, ProblemHttpResult> AllStream(
        Caller caller,
        JobEventStreams streams,
        HttpContext http,
        long? lastEventId = null
    ) =>
        Open(streams, http, lastEventId, after =>
            streams.AllAsync(caller, after, (text, c) => CommentAsync(http, text, c), http.RequestAborted)
        );

    /// <summary>
    /// An SSE comment (a line starting with a colon, which every client skips), flushed at once. The result has set
    /// the headers by then, and writes its events between these, never during one.
    /// </summary>
    private static async Task CommentAsync(HttpContext http, string text, CancellationToken ct)
    {
        await http.Response.Body.WriteAsync(System.Text.Encoding.UTF8.GetBytes($": {text}\n\n"), ct);
        await http.Response.Body.FlushAsync(ct);
    }

    private static Results<ServerSentEventsResult<JobEvent>, ValidationProblem, ProblemHttpResult> Open(
        JobEventStreams streams,
        HttpContext http,
        long? query,
        Func<long?, IAsyncEnumerable<SseItem<JobEvent>>> stream
    )
    {
        long? after = query;
        var header = http.Request.Headers[LastEventIdHeader].ToString();
        if (header.Length > 0)
        {
            if (!long.TryParse(header, out var parsed) || parsed < 0)
                return Problems.Invalid(LastEventIdHeader, "Must be the id of an event this service sent.");
            after = parsed;
        }
        if (after < 0)
            return Problems.Invalid("lastEventId", "Must be the id of an event this service sent.");
        if (streams.Full)
        {
            http.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(
                title: "Too many event streams.",
                detail: $"This host serves at most {streams.MaxStreams} streams (Gan:Events:MaxStreams).",
                statusCode: StatusCodes.Status503ServiceUnavailable
            );
        }
        return TypedResults.ServerSentEvents(stream(after));
    }
}
