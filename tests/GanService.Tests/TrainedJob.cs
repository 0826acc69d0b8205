using System.Net.Http.Json;
using GanService.Jobs;

namespace GanService.Tests;

/// <summary>
/// A job submitted and waited for until it ends, with the service that ran it still up: shared through a
/// <see cref="BuiltOnce{T}"/>, one run answers the facts of a class that each check one thing about it.
/// </summary>
public sealed record TrainedJob(
    GanServiceFactory Service,
    HttpClient Client,
    HttpResponseMessage Answer,
    JobResponse Submitted,
    JobResponse Done
) : IAsyncDisposable
{
    public string Generator => $"/api/generators/{Done.Id}";

    /// <summary>Runs <paramref name="request"/> on a service and database of its own.</summary>
    public static async Task<TrainedJob> RunAsync(
        PostgresServer postgres,
        object request,
        IDictionary<string, string?>? settings = null,
        JobStatus until = JobStatus.Succeeded,
        TimeSpan? timeout = null
    )
    {
        var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), settings: settings);
        return await RunAsync(service, service.CreateClient(), request, until, timeout);
    }

    /// <summary>Runs <paramref name="request"/> on <paramref name="service"/>, which the result then owns.</summary>
    public static async Task<TrainedJob> RunAsync(
        GanServiceFactory service,
        HttpClient client,
        object request,
        JobStatus until = JobStatus.Succeeded,
        TimeSpan? timeout = null
    )
    {
        var answer = await client.PostAsJsonAsync("/api/jobs", request);
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        var submitted = (await answer.Content.ReadFromJsonAsync<JobResponse>(GanServiceFactory.Json))!;
        var done = await GanServiceFactory.WaitForStatusAsync(client, submitted.Id, until, timeout);
        return new TrainedJob(service, client, answer, submitted, done);
    }

    /// <summary>Waits until the job has ended, however it ended.</summary>
    public static Task<JobResponse> WaitForEndAsync(HttpClient client, Guid id, TimeSpan? timeout = null) =>
        GanServiceFactory.WaitForAsync(
            client,
            id,
            j => j.Status is not (JobStatus.Queued or JobStatus.Running),
            timeout
        );

    public async ValueTask DisposeAsync()
    {
        Answer.Dispose();
        Client.Dispose();
        await Service.DisposeAsync();
    }
}
