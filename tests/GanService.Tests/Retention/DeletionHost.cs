using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using GanService.Jobs;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace GanService.Tests;

/// <summary>
/// A host with authentication on, shared by the deletion facts: alice owns the jobs, bob is another owner.
/// </summary>
public sealed record DeletionHost(GanServiceFactory Service, HttpClient Alice, HttpClient Bob) : IAsyncDisposable
{
    public static async Task<DeletionHost> StartAsync(PostgresServer postgres)
    {
        var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), settings: AuthTests.AuthOn());
        using var admin = AuthTests.As(service, AuthTests.AdminKey);
        return new DeletionHost(
            service,
            AuthTests.As(service, await AuthTests.CreateKeyAsync(admin, "alice")),
            AuthTests.As(service, await AuthTests.CreateKeyAsync(admin, "bob"))
        );
    }

    /// <summary>A 28x28 DCGAN on synthetic data, a few seconds on two cores.</summary>
    public static object TinyJob(int steps = 4, int checkpointEvery = 2, string dataset = "synthetic") =>
        new
        {
            dataset,
            model = new { family = "dcgan", imageSize = 28 },
            training = new { steps, batchSize = 8 },
            checkpointEvery,
            seed = 1,
            device = "cpu",
        };

    public async Task<JobResponse> TrainAsync(object request)
    {
        var job = await Service.SubmitAsync(Alice, request);
        return await GanServiceFactory.WaitForStatusAsync(Alice, job.Id, JobStatus.Succeeded);
    }

    /// <summary>An uploaded IDX dataset of 64 distinct 28x28 images, for the facts about deleting datasets.</summary>
    public async Task<Guid> UploadDatasetAsync()
    {
        var pixels = new byte[64 * 28 * 28];
        new Random(3).NextBytes(pixels);
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(UploadFiles.Idx(pixels, [64, 28, 28])), "images", "train-images-idx3-ubyte" },
        };
        using var uploaded = await Alice.PostAsync("/api/datasets", form);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        return (await uploaded.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!.Id;
    }

    /// <summary>Rows that name the job, table by table.</summary>
    public async Task<Dictionary<string, long>> RowsAsync(Guid jobId)
    {
        await using var connection = new NpgsqlConnection(Service.ConnectionString);
        await connection.OpenAsync();
        var rows = new Dictionary<string, long>();
        foreach (var (table, column) in Tables)
        {
            await using var count = new NpgsqlCommand(
                $"""SELECT count(*) FROM gan.{table} WHERE "{column}" = @job""",
                connection
            );
            count.Parameters.AddWithValue("job", jobId);
            rows[table] = (long)(await count.ExecuteScalarAsync())!;
        }
        return rows;
    }

    private static readonly (string Table, string Column)[] Tables =
    [
        ("training_jobs", "Id"),
        ("checkpoints", "JobId"),
        ("training_metrics", "JobId"),
        ("job_attempts", "JobId"),
        ("evaluations", "JobId"),
        ("job_events", "JobId"),
        ("idempotency_keys", "ResourceId"),
    ];

    public async Task<string?> HangfireJobIdAsync(Guid jobId)
    {
        await using var connection = new NpgsqlConnection(Service.ConnectionString);
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand(
            """SELECT "HangfireJobId" FROM gan.training_jobs WHERE "Id" = @job""",
            connection
        );
        read.Parameters.AddWithValue("job", jobId);
        return (string?)await read.ExecuteScalarAsync();
    }

    public string? HangfireState(string hangfireJobId)
    {
        using var connection = Service.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetJobData(hangfireJobId)?.State;
    }

    /// <summary>The errors the host logged (warnings are expected: a stopped worker says why).</summary>
    public IEnumerable<string> Errors =>
        Service.Errors.Entries.Where(e => e.StartsWith("Error") || e.StartsWith("Critical"));

    public async ValueTask DisposeAsync()
    {
        Alice.Dispose();
        Bob.Dispose();
        await Service.DisposeAsync();
    }
}
