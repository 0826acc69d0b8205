using System.Diagnostics;
using System.Net.Http.Json;
using GanService.Jobs;
using GanService.Jobs.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace GanService.Benchmarks;

/// <summary>
/// Training next to sampling on one host: whether a job keeps its pace and its Hangfire server stays alive while
/// clients fetch images, from this process or from another one at low priority.
/// </summary>
internal static class ContentionBenchmark
{
    /// <summary>
    /// A rate against the baseline as a whole percentage; a change that rounds to nothing reads 0%, not -+0%.
    /// </summary>
    private static string Change(double rate, double baseline) =>
        Math.Round((rate / baseline - 1) * 100) is var change && change == 0 ? "0%" : $"{change:+0;-0}%";

    /// <summary>
    /// Training and sampling on one host: a job's steps/s alone and then under 32 clients fetching fresh-seed images
    /// from another generator, and the oldest Hangfire heartbeat seen meanwhile (the server must stay alive).
    /// </summary>
    public static async Task Contention(string connectionString, TimeSpan window)
    {
        await using var host = SamplingBenchmark.Host(connectionString);
        using var client = SamplingBenchmark.Serve(host, out var address);
        var generator = await Finish(client, await Submit(client, 20, 20));
        var training = await Submit(client, 100_000, 10_000);
        while ((await Job(client, training)).Step < 20)
            await Task.Delay(200);
        var storage = host.Services.GetRequiredService<Hangfire.JobStorage>();
        long seed = 0;
        Task Clients(CancellationToken stop) =>
            Task.WhenAll(
                Enumerable
                    .Range(0, 32)
                    .Select(_ =>
                        Task.Run(async () =>
                        {
                            while (!stop.IsCancellationRequested)
                                using (
                                    var response = await client.GetAsync(
                                        $"/api/generators/{generator}/image.png?seed={Interlocked.Increment(ref seed)}"
                                    )
                                )
                                    response.EnsureSuccessStatusCode();
                        })
                    )
            );
        // The sampling path is compiled (and tiered up) before anything is timed: a fresh host's JIT is not the load.
        using (var warm = new CancellationTokenSource(window / 3))
            await Clients(warm.Token);
        var alone = await StepsPerSecond(client, training, window, storage);
        long before = Interlocked.Read(ref seed);
        Window loaded;
        using (var stop = new CancellationTokenSource())
        {
            var load = Clients(stop.Token);
            loaded = await StepsPerSecond(client, training, window, storage);
            stop.Cancel();
            await load;
        }
        long served = seed - before;
        // Real clients are remote: the same load from another process at nice 19 takes (almost) no CPU from the host.
        string[] self =
            Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet"
                ? [Environment.ProcessPath!, typeof(SamplingBenchmark).Assembly.Location]
                : [Environment.ProcessPath!];
        using var remote = Process.Start(
            new ProcessStartInfo(
                "nice",
                [
                    "-n",
                    "19",
                    .. self,
                    "load",
                    $"{address}/api/generators/{generator}/image.png",
                    "32",
                    ((int)window.TotalSeconds + 2).ToString(),
                ]
            )
            {
                RedirectStandardOutput = true,
            }
        )!;
        await Task.Delay(1000);
        var niced = await StepsPerSecond(client, training, window, storage);
        long remoteImages = long.Parse((await remote.StandardOutput.ReadToEndAsync()).Trim());
        await remote.WaitForExitAsync();
        // Alone again: the machine's speed drifts, so "alone" is the mean of a window before and one after the load.
        var after = await StepsPerSecond(client, training, window, storage);
        await client.PostAsync($"/api/jobs/{training}/cancel", null);
        double baseline = (alone.Rate + after.Rate) / 2;
        Console.WriteLine();
        Console.WriteLine(
            "Training next to sampling on one host (DCGAN 28x28x1, batch 64; 32 clients fetching fresh-seed images; "
                + $"{window.TotalSeconds:F0} s windows;"
        );
        Console.WriteLine(
            "change against the mean of the two windows alone; CPU in ms per second of window, by this process's "
                + "threads and PostgreSQL)."
        );
        Console.WriteLine();
        Console.WriteLine(
            "| training | steps/s | change | oldest Hangfire heartbeat seen | images served | training / render / "
                + "thread pool / JIT / PostgreSQL / rest |"
        );
        Console.WriteLine("|---|---:|---:|---:|---:|---|");
        Console.WriteLine($"| alone (before) | {alone.Rate:F2} | | {alone.Heartbeat:F0} s | 0 | {alone.Cpu} |");
        Console.WriteLine(
            $"| with 32 sampling clients in this process | {loaded.Rate:F2} | {Change(loaded.Rate, baseline)} | "
                + $"{loaded.Heartbeat:F0} s | {served} | {loaded.Cpu} |"
        );
        Console.WriteLine(
            $"| with 32 clients in another process at nice 19 | {niced.Rate:F2} | {Change(niced.Rate, baseline)} | "
                + $"{niced.Heartbeat:F0} s | {remoteImages} | {niced.Cpu} |"
        );
        Console.WriteLine($"| alone (after) | {after.Rate:F2} | | {after.Heartbeat:F0} s | 0 | {after.Cpu} |");
    }

    /// <summary>
    /// The load generator of <see cref="Contention"/> as a process of its own: <c>load URL CLIENTS SECONDS</c> fetches
    /// fresh-seed images and prints how many it got.
    /// </summary>
    public static async Task LoadProcess(string url, int clients, TimeSpan duration)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients });
        long seed = 0,
            served = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(
            Enumerable
                .Range(0, clients)
                .Select(_ =>
                    Task.Run(async () =>
                    {
                        while (clock.Elapsed < duration)
                            using (
                                var response = await client.GetAsync($"{url}?seed={Interlocked.Increment(ref seed)}")
                            )
                                if (response.IsSuccessStatusCode)
                                    Interlocked.Increment(ref served);
                    })
                )
        );
        Console.WriteLine(served);
    }

    private sealed record Window(double Rate, double Heartbeat, string Cpu);

    private static async Task<Window> StepsPerSecond(
        HttpClient client,
        Guid job,
        TimeSpan window,
        Hangfire.JobStorage storage
    )
    {
        long first = (await Job(client, job)).Step;
        var cpuBefore = CpuLedger.Take();
        var clock = Stopwatch.StartNew();
        double oldest = 0;
        while (clock.Elapsed < window)
        {
            await Task.Delay(1000);
            // This process's servers only: workers that earlier parts of the run killed stay listed until Hangfire's
            // server timeout removes them, and their last heartbeat only ages.
            foreach (
                var server in storage
                    .GetMonitoringApi()
                    .Servers()
                    .Where(s => s.Name.StartsWith(TrainingWorker.ServerName + ":", StringComparison.Ordinal))
            )
                if (server.Heartbeat is { } beat)
                    oldest = Math.Max(oldest, (DateTime.UtcNow - beat).TotalSeconds);
        }
        var cpu = CpuLedger.Take().Since(cpuBefore).ToList();
        return new Window(
            ((await Job(client, job)).Step - first) / clock.Elapsed.TotalSeconds,
            oldest,
            CpuLedger.Split(cpu, clock.Elapsed.TotalSeconds)
        );
    }

    private static async Task<Guid> Submit(HttpClient client, int steps, int checkpointEvery)
    {
        var response = await client.PostAsJsonAsync(
            "/api/jobs",
            new
            {
                dataset = "synthetic",
                model = new
                {
                    family = "dcgan",
                    imageSize = 28,
                    channels = 1,
                },
                training = new { steps, batchSize = 64 },
                checkpointEvery,
                seed = 1,
                device = "cpu",
                evaluation = new { every = 0 }, // training alone; evaluations are measured on their own
            }
        );
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JobResponse>(BenchmarkHost.Json))!.Id;
    }

    private static async Task<JobResponse> Job(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<JobResponse>($"/api/jobs/{id}", BenchmarkHost.Json))!;

    private static async Task<Guid> Finish(HttpClient client, Guid id)
    {
        while ((await Job(client, id)).Status is JobStatus.Queued or JobStatus.Running)
            await Task.Delay(200);
        return id;
    }
}
