using System.Net;
using GanService.Evaluations;
using GanService.Events;
using GanService.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static GanService.Tests.WorkerRuns;

namespace GanService.Tests;

/// <summary>
/// Live events through a real API host whose worker is another process: the worker's writes reach the API's
/// streams through PostgreSQL's notifications, in order, a reconnect resumes from Last-Event-ID, and a job's
/// stream ends with the job.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class JobEventTests(PostgresServer postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private static object Recipe(string name) =>
        new
        {
            name,
            dataset = "synthetic",
            model = new { family = "dcgan" },
            training = new { steps = 60, batchSize = 32 },
            checkpointEvery = Interval,
            evaluation = new { every = Interval, samples = 16 },
            seed = 3,
            device = "cpu",
        };

    [Fact]
    public async Task A_workers_progress_reaches_a_separate_api_in_order_and_the_stream_ends_with_the_job()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api");
        var client = api.CreateClient();
        var job = await api.SubmitAsync(client, Recipe("watched"));
        var url = $"/api/jobs/{job.Id}/events";

        var reading = EventStream.ReadAsync(client, url, Patience);
        await using var worker = WorkerProcess.Start(
            database,
            new Dictionary<string, string> { ["Gan:Evaluation:RealSamples"] = "200" }
        );
        var events = await reading;

        var described = EventStream.Describe(events);
        var statuses = events.Where(e => e.Type == JobEventTypes.Status).Select(e => e.Data.Status).ToList();
        Assert.Equal([JobStatus.Queued, JobStatus.Running, JobStatus.Succeeded], statuses);
        Assert.Equal(JobEventTypes.Status, events[0].Type);
        Assert.Equal(JobStatus.Succeeded, events[^1].Data.Status);
        Assert.Equal(60, events[^1].Data.Job!.Step);
        var stored = events.Where(e => e.Id is not null).Select(e => long.Parse(e.Id!)).ToList();
        Assert.Equal(stored.Order(), stored);
        Assert.Equal(stored.Count, stored.Distinct().Count());

        Assert.Equal([10L, 20, 30, 40, 50, 60], Steps(events, JobEventTypes.Metric));
        Assert.Equal([20L, 40, 60], Steps(events, JobEventTypes.Checkpoint));
        Assert.Equal([20L, 40, 60], Steps(events, JobEventTypes.Evaluation));
        Assert.All(events.Where(e => e.Type == JobEventTypes.Evaluation), e =>
            Assert.Equal(EvaluationStatus.Succeeded, e.Data.Evaluation!.Status)
        );
        Assert.Contains(events, e => e.Type == JobEventTypes.Progress && e.Id is null && e.Data.Job!.Step > 0);
        // Training goes on only once a checkpoint is stored: the checkpoint at 20 comes before the metric row at 30.
        Assert.True(Index(events, JobEventTypes.Checkpoint, 20) < Index(events, JobEventTypes.Metric, 30), described);
        var checkpoint = events.First(e => e.Type == JobEventTypes.Checkpoint).Data.Checkpoint!;
        var preview = await client.GetByteArrayAsync(checkpoint.Links.Preview);
        using (TestData.DecodePng(preview)) { }

        // A client that reconnects after the fourth event gets exactly the stored events after it, then the end.
        var cursor = events.Where(e => e.Id is not null).ElementAt(3).Id!;
        var resumed = await EventStream.ReadAsync(client, url, Patience, lastEventId: cursor);
        var expected = events.Where(e => e.Id is not null && long.Parse(e.Id) > long.Parse(cursor));
        Assert.Equal(expected.Select(e => e.Id), resumed.Select(e => e.Id));
        var viaQuery = await EventStream.ReadAsync(client, $"{url}?lastEventId={cursor}", Patience);
        Assert.Equal(resumed.Select(e => e.Id), viaQuery.Select(e => e.Id));
        // After the final event there is nothing more, and the stream closes at once.
        Assert.Empty(await EventStream.ReadAsync(client, url, Patience, lastEventId: events[^1].Id));
    }

    [Fact]
    public async Task The_all_jobs_stream_sends_new_jobs_and_replays_from_a_cursor()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api");
        var client = api.CreateClient();
        var hub = api.Services.GetRequiredService<JobEventHub>();

        // No job, so no event for now: the answer's headers come at once all the same, so a client knows it is open.
        using (var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        using (var open = await client.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead, quiet.Token))
            Assert.Equal("text/event-stream", open.Content.Headers.ContentType?.MediaType);
        await WaitAsync(() => hub.Count == 0);

        var reading = EventStream.ReadAsync(client, "/api/events", Patience, enough: e => e.Count == 2);
        await WaitAsync(() => hub.Count == 1);
        var first = await api.SubmitAsync(client, Recipe("first"));
        var second = await api.SubmitAsync(client, Recipe("second"));
        var events = await reading;

        Assert.Equal([first.Id, second.Id], events.Select(e => e.Data.JobId));
        Assert.All(events, e => Assert.Equal(JobStatus.Queued, e.Data.Status));
        var replayed = await EventStream.ReadAsync(
            client,
            "/api/events",
            Patience,
            lastEventId: events[0].Id,
            enough: e => e.Count == 1
        );
        Assert.Equal(second.Id, Assert.Single(replayed).Data.JobId);
    }

    [Fact]
    public async Task A_thousand_streams_opened_and_dropped_leave_no_subscription_and_one_listening_connection()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api"); // no worker: the job stays queued
        var client = api.CreateClient();
        var job = await api.SubmitAsync(client, Recipe("queued"));
        var hub = api.Services.GetRequiredService<JobEventHub>();

        for (int i = 0; i < 1000; i++)
        {
            var events = await EventStream.ReadAsync(client, $"/api/jobs/{job.Id}/events", Patience, enough: e =>
                e.Count == 1
            );
            Assert.Equal(JobStatus.Queued, events[0].Data.Status);
        }

        await WaitAsync(() => hub.Count == 0);
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var listeners = new NpgsqlCommand(
            $"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            connection
        );
        Assert.Equal(1L, await listeners.ExecuteScalarAsync());
        // The host still streams after all that.
        using var cancel = await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        var ended = await EventStream.ReadAsync(client, $"/api/jobs/{job.Id}/events", Patience);
        Assert.Equal(JobStatus.Cancelled, ended[^1].Data.Status);
    }

    [Fact]
    public async Task Streams_of_unknown_jobs_and_bad_cursors_are_refused_with_problems()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var api = new GanServiceFactory(database, role: "api");
        var client = api.CreateClient();

        using var unknown = await client.GetAsync($"/api/jobs/{Guid.NewGuid()}/events");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        request.Headers.Add(EventsApi.LastEventIdHeader, "yesterday");
        using var bad = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains(EventsApi.LastEventIdHeader, await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_quiet_stream_sends_its_headers_at_once_and_then_a_heartbeat_comment()
    {
        var database = await postgres.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?> { ["Gan:Events:Heartbeat"] = "00:00:01" };
        await using var api = new GanServiceFactory(database, role: "api", settings: settings);
        var client = api.CreateClient();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var started = DateTime.UtcNow;
        using var response = await client.GetAsync(
            "/api/events",
            HttpCompletionOption.ResponseHeadersRead,
            cancel.Token
        );
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
        var lines = new List<string>();
        while (lines.Count(l => l == ": heartbeat") < 2)
            lines.Add((await reader.ReadLineAsync(cancel.Token))!);
        var quiet = DateTime.UtcNow - started;

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(": open", lines[0]);
        // Comments only, each ended by a blank line: no event was invented to keep the stream alive.
        Assert.All(lines, l => Assert.True(l is "" || l.StartsWith(": "), $"'{l}' is not a comment"));
        Assert.True(quiet >= TimeSpan.FromSeconds(2), $"two heartbeats came within {quiet}");
    }

    private static List<long> Steps(List<ReceivedEvent> events, string type) =>
        events.Where(e => e.Type == type).Select(e => EventStream.Step(e.Data)!.Value).ToList();

    private static int Index(List<ReceivedEvent> events, string type, long step) =>
        events.FindIndex(e => e.Type == type && EventStream.Step(e.Data) == step);

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 20 s");
            await Task.Delay(20);
        }
    }
}
