using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using GanService.Gan.Runtime;
using GanService.Jobs;
using GanService.Jobs.Worker;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GanService.Benchmarks;

/// <summary>
/// Sampling over real HTTP on loopback (Kestrel, in this process): requests/s and latency percentiles for seeded
/// single images and 16- and 64-image grids at 1, 8 and 32 concurrent clients, with fresh seeds (every request
/// renders), repeated seeds (the encoded-PNG cache answers) and ETag revalidation (304), after a cold first request.
/// </summary>
internal static class SamplingBenchmark
{
    /// <summary>
    /// A rate against the baseline as a whole percentage; a change that rounds to nothing reads 0%, not -+0%.
    /// </summary>
    private static string Change(double rate, double baseline) =>
        Math.Round((rate / baseline - 1) * 100) is var change && change == 0 ? "0%" : $"{change:+0;-0}%";

    public static async Task Run(string connectionString, TimeSpan duration)
    {
        await using var host = Host(connectionString);
        host.UseKestrel(0);
        host.StartServer();
        var address = host
            .Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
        {
            BaseAddress = new Uri(address),
        };

        var submitted = await client.PostAsJsonAsync(
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
                training = new { steps = 20, batchSize = 16 },
                checkpointEvery = 20,
                seed = 1,
                device = "cpu",
            }
        );
        submitted.EnsureSuccessStatusCode();
        var job = (await submitted.Content.ReadFromJsonAsync<JobResponse>(BenchmarkHost.Json))!;
        while (job.Status is JobStatus.Queued or JobStatus.Running)
        {
            await Task.Delay(200);
            job = (await client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}", BenchmarkHost.Json))!;
        }
        var root = $"/api/generators/{job.Id}";
        var cold = Stopwatch.StartNew();
        (await client.GetAsync($"{root}/image.png?seed=0")).EnsureSuccessStatusCode();
        Console.WriteLine();
        Console.WriteLine(
            "Sampling over HTTP on loopback, DCGAN 28x28x1; cold first image (loads the generator): "
                + $"{cold.Elapsed.TotalMilliseconds:F0} ms; {duration.TotalSeconds:F0} s per row."
        );
        Console.WriteLine();
        Console.WriteLine("| request | clients | requests/s | p50 ms | p99 ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        long seed = 1_000;
        var etag = (await client.GetAsync($"{root}/image.png?seed=1")).Headers.ETag!.Tag;
        var scenarios = new (string Name, Func<HttpRequestMessage> Request)[]
        {
            ("image.png, fresh seed", () => Get($"{root}/image.png?seed={Interlocked.Increment(ref seed)}")),
            ("samples.png?count=16, fresh seed", () =>
                Get($"{root}/samples.png?count=16&seed={Interlocked.Increment(ref seed)}")
            ),
            ("samples.png?count=64, fresh seed", () =>
                Get($"{root}/samples.png?count=64&seed={Interlocked.Increment(ref seed)}")
            ),
            ("image.png, 64 repeated seeds (PNG cache)", () =>
                Get($"{root}/image.png?seed={Interlocked.Increment(ref seed) % 64}")
            ),
            ("samples.png?count=16, repeated seeds (PNG cache)", () =>
                Get($"{root}/samples.png?count=16&seed={Interlocked.Increment(ref seed) % 64}")
            ),
            ("image.png, If-None-Match (304)", () => Revalidate($"{root}/image.png?seed=1", etag)),
        };
        foreach (var (name, request) in scenarios)
        {
            // Each path is compiled and tiered up first, so the rows show a running service, not its JIT.
            await Load(client, request, 8, TimeSpan.FromSeconds(2));
            foreach (int clients in new[] { 1, 8, 32 })
            {
                var (rate, p50, p99) = await Load(client, request, clients, duration);
                Console.WriteLine($"| {name} | {clients} | {rate:F0} | {p50:F1} | {p99:F1} |");
            }
        }
        var quarantine = FinalizerQuarantine.Counts();
        Console.WriteLine();
        Console.WriteLine(
            FinalizerQuarantine.Installed
                ? $"Finalizer quarantine over the whole run: {quarantine.Scalars:N0} Scalars and "
                    + $"{quarantine.Tensors:N0} tensors went through it; it held {quarantine.ScalarsHeld:N0} and "
                    + $"{quarantine.TensorsHeld:N0} ({quarantine.TensorBytesHeld / 1024.0:F0} KiB) at the end."
                : $"Finalizer quarantine off: {FinalizerQuarantine.Problem}"
        );
    }

    /// <summary>
    /// Training and sampling on one host: a job's steps/s alone and then under 32 clients fetching fresh-seed images
    /// from another generator, and the oldest Hangfire heartbeat seen meanwhile (the server must stay alive).
    /// </summary>
    public static async Task Contention(string connectionString, TimeSpan window)
    {
        await using var host = Host(connectionString);
        host.UseKestrel(0);
        host.StartServer();
        var address = host
            .Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
        {
            BaseAddress = new Uri(address),
        };
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

    /// <summary>
    /// The benchmark measures the service, not the per-caller limits: the host-wide concurrency limit stays.
    /// </summary>
    private static BenchmarkHost Host(string connectionString) =>
        new(
            connectionString,
            "all",
            ("Gan:RateLimits:SamplesPerSecond", "1000000"),
            ("Gan:RateLimits:SamplingQueue", "10000")
        );

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage Revalidate(string path, string etag)
    {
        var request = Get(path);
        request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        return request;
    }

    /// <summary>
    /// <paramref name="clients"/> loops sending back to back for <paramref name="duration"/>;
    /// every answer must be 200 or 304.
    /// </summary>
    private static async Task<(double Rate, double P50, double P99)> Load(
        HttpClient client,
        Func<HttpRequestMessage> next,
        int clients,
        TimeSpan duration
    )
    {
        var latencies = new List<double>[clients];
        var deadline = DateTime.UtcNow + duration;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(
            Enumerable
                .Range(0, clients)
                .Select(c =>
                    Task.Run(async () =>
                    {
                        var mine = latencies[c] = [];
                        while (DateTime.UtcNow < deadline)
                        {
                            using var request = next();
                            long start = Stopwatch.GetTimestamp();
                            using var response = await client.SendAsync(request);
                            await response.Content.ReadAsByteArrayAsync();
                            mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                            if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.NotModified))
                                throw new InvalidOperationException(
                                    $"{request.RequestUri} answered {(int)response.StatusCode}"
                                );
                        }
                    })
                )
        );
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return (
            all.Length / clock.Elapsed.TotalSeconds,
            all[all.Length / 2],
            all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))]
        );
    }
}
