using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace GanService.Tests;

/// <summary>What a measured request gave, how far the host's resident memory rose above where it was, and the
/// slowest answer to an ordinary request sent meanwhile.</summary>
internal sealed record Measured<T>(T Result, long GrowthBytes, TimeSpan SlowestHealth)
{
    /// <summary>
    /// Asserts the growth stayed under <paramref name="bound"/> and the host answered ordinary requests promptly
    /// (within 3 s) meanwhile.
    /// </summary>
    public void AssertBounded(long bound, ITestOutputHelper output)
    {
        long growth = GrowthBytes >> 20;
        double slowest = SlowestHealth.TotalMilliseconds;
        output.WriteLine($"peak memory +{growth} MB, slowest /health/live {slowest:F0} ms");
        Assert.True(GrowthBytes < bound, $"the host's peak memory rose {growth} MB; the bound is {bound >> 20} MB");
        Assert.True(SlowestHealth < TimeSpan.FromSeconds(3), $"GET /health/live took {slowest:F0} ms meanwhile");
    }
}

/// <summary>
/// The service as its own process, API and worker in one (a single host's default), so that its peak memory can be
/// read from /proc: the high-water mark is reset before a request and read after it. A watchdog kills the host
/// should it grow past a hard cap, so that a regression fails the test instead of taking the machine's memory.
/// </summary>
internal sealed class MeasuredHost : IAsyncDisposable
{
    private readonly WorkerProcess process;

    private MeasuredHost(WorkerProcess process, HttpClient client)
    {
        this.process = process;
        Client = client;
    }

    public HttpClient Client { get; }

    public bool HasExited => process.HasExited;

    public static async Task<MeasuredHost> StartAsync(
        string connectionString,
        IDictionary<string, string>? settings = null
    )
    {
        int port = FreePort();
        var all = new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
        };
        var host = new MeasuredHost(
            WorkerProcess.Start(connectionString, all, role: "all"),
            new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(120) }
        );
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            try
            {
                using var ready = await host.Client.GetAsync("/health/ready");
                // Warm: the first request's code is compiled before anything is measured.
                using var listed = await host.Client.GetAsync("/api/datasets");
                if (ready.IsSuccessStatusCode && listed.IsSuccessStatusCode)
                    return host;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            if (host.process.HasExited || DateTime.UtcNow > deadline)
            {
                var log = host.process.Log;
                await host.DisposeAsync();
                Assert.Fail($"The host did not start:\n{log}");
            }
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Runs <paramref name="request"/> against the host while GET /health/live is sent every 50 ms, and kills the host
    /// (failing the test) if its resident memory rises more than <paramref name="killAbove"/> bytes.
    /// </summary>
    public async Task<Measured<T>> MeasureAsync<T>(Func<HttpClient, Task<T>> request, long killAbove)
    {
        File.WriteAllText($"/proc/{process.Id}/clear_refs", "5"); // resets VmHWM to the present VmRSS
        long baseline = Status("VmRSS");
        using var done = new CancellationTokenSource();
        var watchdog = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                if (Status("VmRSS") - baseline > killAbove)
                {
                    process.Kill();
                    return true;
                }
                await Task.Delay(20);
            }
            return false;
        });
        var prober = Task.Run(async () =>
        {
            var slowest = TimeSpan.Zero;
            do
            {
                var clock = Stopwatch.StartNew();
                using var health = await Client.GetAsync("/health/live");
                health.EnsureSuccessStatusCode();
                if (clock.Elapsed > slowest)
                    slowest = clock.Elapsed;
                await Task.Delay(50);
            } while (!done.IsCancellationRequested);
            return slowest;
        });
        T result = default!;
        Exception? failure = null;
        try
        {
            result = await request(Client);
        }
        catch (Exception e)
        {
            failure = e;
        }
        long growth = process.HasExited ? long.MaxValue : Status("VmHWM") - baseline;
        done.Cancel();
        if (await watchdog)
            Assert.Fail($"The host's memory rose past {killAbove >> 20} MB; it was killed. {failure?.Message}");
        if (failure is not null)
            throw failure;
        return new Measured<T>(result, growth, await prober);
    }

    /// <summary>A line of /proc/PID/status, in bytes.</summary>
    private long Status(string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith(key + ":"));
            return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0]) * 1024;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            return 0; // the process has gone
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await process.DisposeAsync();
    }
}

/// <summary>
/// One measured host for a test class, started by its first test (a host takes several seconds to start) and
/// stopped when the class is done; its database comes from the collection's PostgreSQL. A host that was killed is
/// replaced.
/// </summary>
public sealed class MeasuredHostFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private MeasuredHost? host;

    internal async Task<MeasuredHost> GetAsync(PostgresServer postgres, IDictionary<string, string> settings)
    {
        await gate.WaitAsync();
        try
        {
            if (host is { HasExited: true })
            {
                await host.DisposeAsync(); // killed by a test that failed: the next test gets a fresh one
                host = null;
            }
            return host ??= await MeasuredHost.StartAsync(await postgres.CreateDatabaseAsync(), settings);
        }
        finally
        {
            gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (host is not null)
            await host.DisposeAsync();
    }
}
