using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace GanService.Tests.Browser;

/// <summary>
/// One host process (API and worker, on a free port: a browser needs a real socket), one headless chromium and one
/// small trained job for the whole test class, each started by the first test that needs it.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly SemaphoreSlim gate = new(1, 1);
    private MeasuredHost? host;
    private IPlaywright? playwright;
    private IBrowser? browser;
    private Task<Guid>? trained;
    private WorkerProcess? keyed;
    private Uri? keyedAddress;

    /// <summary>The admin key of the host that has keys on.</summary>
    internal const string AdminKey = "dashboard-admin-key-0123456789abcdef012345";

    internal async Task<MeasuredHost> HostAsync(PostgresServer postgres)
    {
        await gate.WaitAsync();
        try
        {
            return host ??= await MeasuredHost.StartAsync(await postgres.CreateDatabaseAsync());
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// A second host, API only unless <paramref name="role"/> says otherwise, with keys on: every call without a key
    /// answers 401. Started here rather than by <see cref="MeasuredHost"/>, whose readiness check lists datasets
    /// without a key. One per fixture, with the role of the first call.
    /// </summary>
    internal async Task<Uri> KeyedHostAsync(PostgresServer postgres, string role = "api")
    {
        await gate.WaitAsync();
        try
        {
            if (keyedAddress is not null)
                return keyedAddress;
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var address = new Uri($"http://127.0.0.1:{port}/");
            keyed = WorkerProcess.Start(
                await postgres.CreateDatabaseAsync(),
                new Dictionary<string, string>
                {
                    ["ASPNETCORE_URLS"] = address.ToString().TrimEnd('/'),
                    ["Gan:Auth:Enabled"] = "true",
                    ["Gan:Auth:AdminKey"] = AdminKey,
                },
                role: role
            );
            using var client = new HttpClient { BaseAddress = address };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (true)
            {
                try
                {
                    using var ready = await client.GetAsync("/health/ready");
                    if (ready.IsSuccessStatusCode)
                        return keyedAddress = address;
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }
                Assert.False(
                    keyed.HasExited || DateTime.UtcNow > deadline,
                    $"The keyed host did not start:\n{keyed.Log}"
                );
                await Task.Delay(250);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// A fresh page (its own context: no storage shared between tests) at 1280x800, watched, on the measured host or
    /// at <paramref name="address"/>.
    /// </summary>
    internal async Task<(IPage Page, PageWatch Watch)> PageAsync(
        PostgresServer postgres,
        int width = 1280,
        Uri? address = null
    )
    {
        address ??= (await HostAsync(postgres)).Client.BaseAddress!;
        await gate.WaitAsync();
        try
        {
            playwright ??= await Playwright.CreateAsync();
            browser ??= await playwright.Chromium.LaunchAsync(
                new BrowserTypeLaunchOptions
                {
                    ExecutablePath = ChromiumFactAttribute.Executable,
                    Headless = true,
                    // Root in a container has no user namespaces for chromium's sandbox.
                    Args = ["--no-sandbox"],
                }
            );
        }
        finally
        {
            gate.Release();
        }
        var context = await browser.NewContextAsync(
            new BrowserNewContextOptions
            {
                BaseURL = address.ToString(),
                ViewportSize = new ViewportSize { Width = width, Height = 800 },
            }
        );
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        return (page, new PageWatch(page));
    }

    /// <summary>A finished dcgan job on the synthetic discs, submitted through the API, for the explorer.</summary>
    internal Task<Guid> TrainedJobAsync(PostgresServer postgres) => trained ??= TrainAsync(postgres);

    private async Task<Guid> TrainAsync(PostgresServer postgres)
    {
        var client = (await HostAsync(postgres)).Client;
        var id = await SubmitAsync(client, "explored", steps: 40, checkpointEvery: 20);
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var job = await client.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}");
            var status = job.GetProperty("status").GetString();
            if (status == "Succeeded")
                return id;
            Assert.True(status is "Queued" or "Running", $"The explored job ended {status}: {job}");
            await Task.Delay(250);
        }
        throw new TimeoutException("The explored job did not finish in time.");
    }

    internal static async Task<Guid> SubmitAsync(HttpClient client, string name, int steps, int checkpointEvery)
    {
        using var response = await client.PostAsJsonAsync(
            "/api/jobs",
            new
            {
                name,
                dataset = "synthetic",
                model = new { family = "dcgan" },
                training = new { steps, batchSize = 16 },
                checkpointEvery,
                seed = 5,
                device = "cpu",
            }
        );
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (browser is not null)
            await browser.DisposeAsync();
        playwright?.Dispose();
        if (host is not null)
            await host.DisposeAsync();
        if (keyed is not null)
            await keyed.DisposeAsync();
    }
}
