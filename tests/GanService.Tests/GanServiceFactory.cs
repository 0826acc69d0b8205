using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using GanService.Jobs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace GanService.Tests;

/// <summary>The real host (Kestrel-less TestServer) over a real database, Hangfire included.</summary>
public sealed class GanServiceFactory(
    string connectionString,
    string role = "all",
    IDictionary<string, string?>? settings = null
) : WebApplicationFactory<Program>
{
    public string ConnectionString => connectionString;

    /// <summary>Private to this host, so no test sees another's downloads.</summary>
    public string DownloadDirectory { get; } =
        Path.Combine(Path.GetTempPath(), $"ganservice-downloads-{Guid.NewGuid():N}");

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(DownloadDirectory))
            Directory.Delete(DownloadDirectory, recursive: true);
    }

    /// <summary>What the host logged as a warning or an error, exceptions included.</summary>
    public ErrorLog Errors { get; } = new();

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureLogging(logging => logging.AddProvider(Errors));
        builder.UseSetting("ConnectionStrings:Postgres", connectionString);
        builder.UseSetting("Gan:Role", role);
        builder.UseSetting("Gan:CancellationPollInterval", "00:00:00.250");
        builder.UseSetting("Gan:DataDirectory", Path.Combine(Path.GetTempPath(), "ganservice-no-data"));
        builder.UseSetting("Gan:ExtraDataDirectories:0", "");
        builder.UseSetting("Gan:DownloadDirectory", DownloadDirectory);
        // Scoring every job would cost each test a feature-network pass; the evaluation tests ask for it.
        builder.UseSetting("Gan:Evaluation:ByDefault", "false");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            builder.UseSetting(key, value);
    }

    public async Task<JobResponse> SubmitAsync(HttpClient client, object request)
    {
        var response = await client.PostAsJsonAsync("/api/jobs", request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JobResponse>(Json))!;
    }

    public static async Task<JobResponse> GetJobAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<JobResponse>($"/api/jobs/{id}", Json))!;

    /// <summary>
    /// Polls until the job satisfies <paramref name="done"/>, failing with its last state after the timeout.
    /// </summary>
    public static async Task<JobResponse> WaitForAsync(
        HttpClient client,
        Guid id,
        Func<JobResponse, bool> done,
        TimeSpan? timeout = null
    )
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            // A 503 is the service's answer while PostgreSQL does not answer (nothing changed, retry after the
            // delay it names); a poller waits it out, as a client should, within the same deadline.
            using var response = await client.GetAsync($"/api/jobs/{id}");
            if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(
                    TimeSpan.FromSeconds(Math.Min(5, response.Headers.RetryAfter?.Delta?.TotalSeconds ?? 1))
                );
                continue;
            }
            response.EnsureSuccessStatusCode();
            var job = (await response.Content.ReadFromJsonAsync<JobResponse>(Json))!;
            if (done(job))
                return job;
            if (DateTime.UtcNow > deadline)
                Assert.Fail(
                    $"Job {id} did not reach the expected state; "
                        + $"last: {job.Status} at step {job.Step}, error {job.Error}"
                );
            await Task.Delay(100);
        }
    }

    public static async Task<JobResponse> WaitForStatusAsync(
        HttpClient client,
        Guid id,
        JobStatus status,
        TimeSpan? timeout = null
    )
    {
        var job = await WaitForAsync(
            client,
            id,
            j => j.Status == status || j.Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled,
            timeout
        );
        Assert.True(job.Status == status, $"Job {id} ended {job.Status} ({job.Error}), expected {status}.");
        return job;
    }
}
