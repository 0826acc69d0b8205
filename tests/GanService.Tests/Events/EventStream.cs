using System.Net;
using System.Text;
using System.Text.Json;
using GanService.Events;

namespace GanService.Tests;

/// <summary>One server-sent event as a client reads it off the wire.</summary>
public sealed record ReceivedEvent(string? Id, string Type, JobEvent Data);

/// <summary>A plain text/event-stream reader, as a browser's EventSource parses the format.</summary>
public static class EventStream
{
    /// <summary>
    /// Reads events from <paramref name="url"/> until the server ends the stream or <paramref name="enough"/> says
    /// so, failing after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<List<ReceivedEvent>> ReadAsync(
        HttpClient client,
        string url,
        TimeSpan timeout,
        string? lastEventId = null,
        Func<List<ReceivedEvent>, bool>? enough = null
    )
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is not null)
            request.Headers.Add(EventsApi.LastEventIdHeader, lastEventId);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token), Encoding.UTF8);
        var events = new List<ReceivedEvent>();
        string? id = null,
            type = null;
        var data = new StringBuilder();
        try
        {
            while (await reader.ReadLineAsync(cancel.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Length > 0)
                    {
                        var parsed = JsonSerializer.Deserialize<JobEvent>(data.ToString(), GanServiceFactory.Json)!;
                        events.Add(new ReceivedEvent(id, type ?? "message", parsed));
                        if (enough?.Invoke(events) == true)
                            return events;
                    }
                    (id, type) = (null, null);
                    data.Clear();
                }
                else if (Field(line, "id") is { } idValue)
                    id = idValue;
                else if (Field(line, "event") is { } typeValue)
                    type = typeValue;
                else if (Field(line, "data") is { } dataValue)
                    data.Append(dataValue);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Assert.Fail($"The stream was still open after {timeout}; received: {Describe(events)}");
        }
        return events;
    }

    /// <summary>The value of a line <c>name: value</c> (one space after the colon is optional), or null.</summary>
    private static string? Field(string line, string name) =>
        line.StartsWith(name + ":") ? line[(name.Length + 1)..].TrimStart(' ') : null;

    public static string Describe(IEnumerable<ReceivedEvent> events) =>
        string.Join(
            ", ",
            events.Select(e => $"{e.Id}:{e.Type}@{e.Data.Status?.ToString() ?? Step(e.Data)?.ToString()}")
        );

    /// <summary>The step an event is about.</summary>
    public static long? Step(JobEvent e) => e.Metric?.Step ?? e.Checkpoint?.Step ?? e.Evaluation?.Step ?? e.Job?.Step;
}
