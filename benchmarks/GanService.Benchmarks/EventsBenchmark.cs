using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using GanService.Jobs;
using Npgsql;

namespace GanService.Benchmarks;

/// <summary>
/// Live events: what idle streams cost an API host, and the delay from a worker's write to a client's event. The
/// writes are the metric rows a worker's progress statement inserts, made on a connection of their own (as a
/// worker process's are); each reaches the host through the database's notification and its one listening
/// connection, and is fanned out to every open stream of the job.
/// </summary>
internal static class EventsBenchmark
{
    public static async Task Run(string connectionString, int idleStreams, int writes)
    {
        await using var api = new BenchmarkHost(connectionString, "api");
        using var client = api.CreateClient();
        client.Timeout = Timeout.InfiniteTimeSpan;
        var submitted = await client.PostAsJsonAsync(
            "/api/jobs",
            new
            {
                dataset = "synthetic",
                model = new { family = "dcgan" },
                training = new { steps = 100_000 },
                evaluation = new { every = 0 },
            }
        );
        submitted.EnsureSuccessStatusCode();
        var job = (await submitted.Content.ReadFromJsonAsync<JobResponse>(BenchmarkHost.Json))!;
        var url = $"/api/jobs/{job.Id}/events";
        using var stop = new CancellationTokenSource();

        var process = Process.GetCurrentProcess();
        // A settled host: one stream opened and closed, then the start-up's background compilation left to finish.
        using (var warm = new CancellationTokenSource())
        {
            var opened = new TaskCompletionSource();
            var first = DrainAsync(client, url, opened, warm.Token);
            await opened.Task;
            warm.Cancel();
            await first.ContinueWith(_ => { });
        }
        await Task.Delay(TimeSpan.FromSeconds(10));
        double idleCpu = await CpuOverAsync(process, TimeSpan.FromSeconds(10));
        var streams = new List<Task>();
        for (int i = 0; i < idleStreams; i++)
        {
            var opened = new TaskCompletionSource();
            streams.Add(DrainAsync(client, url, opened, stop.Token));
            await opened.Task; // its history is replayed: from now on it only waits
        }
        await Task.Delay(TimeSpan.FromSeconds(2));
        double withStreamsCpu = await CpuOverAsync(process, TimeSpan.FromSeconds(10));

        var arrivals = new Dictionary<long, TaskCompletionSource<long>>();
        for (int i = 1; i <= writes; i++)
            arrivals[i] = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = WatchAsync(client, url, arrivals, stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await using var worker = new NpgsqlConnection(connectionString);
        await worker.OpenAsync();
        var delays = new List<double>();
        for (int step = 1; step <= writes; step++)
        {
            await using var write = new NpgsqlCommand(
                """
                INSERT INTO gan.training_metrics ("JobId", "Step", "Epoch", "DiscriminatorLoss", "GeneratorLoss",
                    "RealScore", "FakeScore", "ImagesPerSecond", "RecordedAt")
                VALUES (@job, @step, 0, 1.3, 0.7, 0.5, 0.5, 100, now())
                """,
                worker
            );
            write.Parameters.AddWithValue("job", job.Id);
            write.Parameters.AddWithValue("step", (long)step);
            long before = Stopwatch.GetTimestamp();
            await write.ExecuteNonQueryAsync();
            long arrived = await arrivals[step].Task.WaitAsync(TimeSpan.FromSeconds(30));
            delays.Add(Stopwatch.GetElapsedTime(before, arrived).TotalMilliseconds);
            await Task.Delay(20);
        }
        stop.Cancel();
        await Task.WhenAll(streams.Append(watcher).Select(t => t.ContinueWith(_ => { })));

        delays.Sort();
        Console.WriteLine();
        Console.WriteLine("| events | figure |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| API host CPU over 10 s, no stream open | {idleCpu * 1000:F0} ms |");
        Console.WriteLine(
            $"| API host CPU over 10 s, {idleStreams} idle streams open | {withStreamsCpu * 1000:F0} ms |"
        );
        Console.WriteLine(
            $"| a worker's metric row to the client's event, {writes} writes, {idleStreams + 1} streams "
                + $"of the job: p50 | {Percentile(delays, 0.50):F1} ms |"
        );
        Console.WriteLine($"| the same, p99 | {Percentile(delays, 0.99):F1} ms |");
    }

    private static async Task<double> CpuOverAsync(Process process, TimeSpan window)
    {
        process.Refresh();
        var before = process.TotalProcessorTime;
        await Task.Delay(window);
        process.Refresh();
        return (process.TotalProcessorTime - before).TotalSeconds;
    }

    /// <summary>Holds a stream open; <paramref name="opened"/> completes at its first event.</summary>
    private static async Task DrainAsync(
        HttpClient client,
        string url,
        TaskCompletionSource opened,
        CancellationToken ct
    )
    {
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        var stream = await response.Content.ReadAsStreamAsync(ct);
        await foreach (var _ in SseParser.Create(stream).EnumerateAsync(ct))
            opened.TrySetResult();
    }

    private static async Task WatchAsync(
        HttpClient client,
        string url,
        Dictionary<long, TaskCompletionSource<long>> arrivals,
        CancellationToken ct
    )
    {
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        var stream = await response.Content.ReadAsStreamAsync(ct);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(ct))
        {
            long now = Stopwatch.GetTimestamp();
            if (item.EventType != "metric")
                continue;
            using var data = System.Text.Json.JsonDocument.Parse(item.Data);
            long step = data.RootElement.GetProperty("metric").GetProperty("step").GetInt64();
            if (arrivals.TryGetValue(step, out var arrival))
                arrival.TrySetResult(now);
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
