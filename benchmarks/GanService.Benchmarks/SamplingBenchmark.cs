using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using GanService.Gan.Runtime;
using GanService.Jobs;
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
    public static async Task Run(string connectionString, TimeSpan duration)
    {
        await using var host = Host(connectionString);
        using var client = Serve(host, out _);

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
                evaluation = new { every = 0 }, // training alone; evaluations are measured on their own
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
    /// The benchmark measures the service, not the per-caller limits: the host-wide concurrency limit stays.
    /// </summary>
    internal static BenchmarkHost Host(string connectionString) =>
        new(
            connectionString,
            "all",
            ("Gan:RateLimits:SamplesPerSecond", "1000000"),
            ("Gan:RateLimits:SamplingQueue", "10000")
        );

    /// <summary>The host on Kestrel at a free loopback port, and a client for it.</summary>
    internal static HttpClient Serve(BenchmarkHost host, out string address)
    {
        host.UseKestrel(0);
        host.StartServer();
        address = host
            .Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        return new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
        {
            BaseAddress = new Uri(address),
        };
    }

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
