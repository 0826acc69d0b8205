using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GanService.Checkpoints;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>
/// Per-owner quotas: queued plus running jobs (429) and stored bytes (403) at submit and upload, each problem naming
/// its quota; a job whose next checkpoint would pass the byte quota stops there with that reason.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class QuotaTests(PostgresServer postgres)
{
    [Fact]
    public async Task Submits_and_uploads_beyond_an_owners_quota_are_refused_naming_the_quota()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var service = new GanServiceFactory(
            database,
            role: "api",
            settings: new Dictionary<string, string?>
            {
                ["Gan:Quotas:MaxActiveJobs"] = "2",
                ["Gan:Quotas:MaxStoredBytes"] = "1000000",
            }
        );
        var client = service.CreateClient();
        var first = await service.SubmitAsync(client, TestData.SyntheticJob());
        await service.SubmitAsync(client, TestData.SyntheticJob());
        await AssertQuotaAsync(
            await client.PostAsJsonAsync("/api/jobs", TestData.SyntheticJob()),
            HttpStatusCode.TooManyRequests,
            "Gan:Quotas:MaxActiveJobs"
        );
        (await client.PostAsync($"/api/jobs/{first.Id}/cancel", null)).EnsureSuccessStatusCode();
        var third = await service.SubmitAsync(client, TestData.SyntheticJob());
        (await client.PostAsync($"/api/jobs/{third.Id}/cancel", null)).EnsureSuccessStatusCode();

        var dataset = await DatasetUploadTests.Upload(client, Zip(255), "small.zip");
        Assert.InRange(dataset.SizeBytes, 1, 999_999);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var fill = new NpgsqlCommand("""UPDATE gan.datasets SET "SizeBytes" = 1000000""", connection);
            Assert.Equal(1, await fill.ExecuteNonQueryAsync());
        }
        await AssertQuotaAsync(
            await client.PostAsJsonAsync("/api/jobs", TestData.SyntheticJob()),
            HttpStatusCode.Forbidden,
            "Gan:Quotas:MaxStoredBytes"
        );
        await AssertQuotaAsync(
            await client.PostAsync("/api/datasets", UploadFiles.Form("file", Zip(7), "more.zip")),
            HttpStatusCode.Forbidden,
            "Gan:Quotas:MaxStoredBytes"
        );
        Assert.Equal(
            3,
            (await client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total
        );
    }

    [Fact]
    public async Task A_job_whose_checkpoint_would_pass_the_byte_quota_stops_there_with_the_reason()
    {
        await using var service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:Quotas:MaxStoredBytes"] = "4096" }
        );
        var client = service.CreateClient();
        var job = await service.SubmitAsync(client, TestData.SyntheticJob(steps: 4, batchSize: 4, checkpointEvery: 2));
        var failed = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Failed);
        Assert.StartsWith("Stopped at step 2", failed.Error);
        Assert.Contains("Gan:Quotas:MaxStoredBytes", failed.Error);
        Assert.Empty(
            (
                await client.GetFromJsonAsync<List<CheckpointResponse>>(
                    $"/api/jobs/{job.Id}/checkpoints",
                    GanServiceFactory.Json
                )
            )!
        );
    }

    private static byte[] Zip(byte red) =>
        UploadFiles.Zip(
            ("a.png", UploadFiles.Png(8, 8, new Rgb24(red, 0, 0))),
            ("b.png", UploadFiles.Png(8, 8, new Rgb24(0, 255, 0)))
        );

    private static async Task AssertQuotaAsync(HttpResponseMessage response, HttpStatusCode status, string quota)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemDetails>())!;
        Assert.Equal(quota, ((JsonElement)problem.Extensions["quota"]!).GetString());
        Assert.Contains(quota.Split(':')[^1] is "MaxActiveJobs" ? "queued or running" : "bytes", problem.Detail);
    }
}
