using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using GanService.Idempotency;
using GanService.Jobs;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>Per-caller rate limits (429 with Retry-After) and Idempotency-Key on the creating endpoints.</summary>
[Collection(PostgresCollection.Name)]
public sealed class LimitsAndIdempotencyTests(PostgresServer postgres)
{
    private static readonly byte[] Zip = UploadFiles.Zip(
        ("a.png", UploadFiles.Png(8, 8, new Rgb24(255, 0, 0))),
        ("b.png", UploadFiles.Png(8, 8, new Rgb24(0, 255, 0)))
    );

    [Fact]
    public async Task Each_caller_has_its_own_limits_and_a_refusal_is_a_429_problem_with_retry_after()
    {
        await using var service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            settings: AuthTests.AuthOn(
                ("Gan:RateLimits:SubmissionsPerMinute", "3"),
                ("Gan:RateLimits:UploadsPerMinute", "1"),
                ("Gan:RateLimits:SamplesPerSecond", "4")
            )
        );
        var admin = AuthTests.As(service, AuthTests.AdminKey);
        var erin = AuthTests.As(service, await AuthTests.CreateKeyAsync(admin, "erin"));
        var frank = AuthTests.As(service, await AuthTests.CreateKeyAsync(admin, "frank"));

        var job = await service.SubmitAsync(erin, TestData.SyntheticJob(steps: 10, checkpointEvery: 10));
        for (int i = 0; i < 2; i++)
            await service.SubmitAsync(erin, TestData.SyntheticJob(steps: 1, checkpointEvery: 1));
        var refused = await erin.PostAsJsonAsync("/api/jobs", TestData.SyntheticJob());
        await AssertTooManyAsync(refused);
        // another owner is unaffected
        await service.SubmitAsync(frank, TestData.SyntheticJob(steps: 1, checkpointEvery: 1));

        await DatasetUploadTests.Upload(erin, Zip, "one.zip");
        await AssertTooManyAsync(await erin.PostAsync("/api/datasets", UploadFiles.Form("file", Zip, "two.zip")));

        await GanServiceFactory.WaitForStatusAsync(erin, job.Id, JobStatus.Succeeded);
        // At once: one after another, on a busy machine, each can take longer than the bucket takes to refill.
        var responses = await Task.WhenAll(
            Enumerable.Range(0, 12).Select(i => erin.GetAsync($"/api/generators/{job.Id}/image.png?seed={i}"))
        );
        var statuses = responses.Select(r => r.StatusCode).ToList();
        foreach (var response in responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests))
            await AssertTooManyAsync(response);
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task Sampling_beyond_the_hosts_concurrency_limit_and_its_queue_is_refused_with_a_429()
    {
        await using var service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?>
            {
                ["Gan:RateLimits:SamplingConcurrency"] = "1",
                ["Gan:RateLimits:SamplingQueue"] = "1",
            }
        );
        var client = service.CreateClient();
        var job = await service.SubmitAsync(client, TestData.SyntheticJob(steps: 10, checkpointEvery: 10));
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);

        // Sixteen 256-image grids at once: one renders, one waits, the rest are turned away rather than piling up.
        var responses = await Task.WhenAll(
            Enumerable
                .Range(0, 16)
                .Select(i =>
                    Task.Run(() => client.GetAsync($"/api/generators/{job.Id}/samples.png?count=256&seed={i}"))
                )
        );
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        foreach (var response in refused)
            await AssertTooManyAsync(response);
    }

    [Fact]
    public async Task A_retry_with_the_same_idempotency_key_gets_the_same_job_and_a_different_body_a_409()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        var client = service.CreateClient();
        var body = TestData.SyntheticJob(steps: 5, checkpointEvery: 5);

        // Five concurrent retries of one request: one job.
        var responses = await Task.WhenAll(
            Enumerable.Range(0, 5).Select(_ => Post(client, "/api/jobs", JsonContent.Create(body), "retry-1"))
        );
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var ids = await Task.WhenAll(
            responses.Select(async r => (await r.Content.ReadFromJsonAsync<JobResponse>(GanServiceFactory.Json))!.Id)
        );
        Assert.Single(ids.Distinct());
        Assert.Equal(4, responses.Count(r => r.Headers.Contains(IdempotencyKeys.ReplayedHeader)));
        Assert.Equal($"/api/jobs/{ids[0]}", responses[0].Headers.Location?.ToString());
        Assert.Equal(
            1,
            (await client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total
        );

        var other = await Post(client, "/api/jobs", JsonContent.Create(TestData.SyntheticJob(steps: 6)), "retry-1");
        Assert.Contains(IdempotencyKeys.Header, await AuthTests.AssertProblemAsync(other, HttpStatusCode.Conflict));
        var fresh = await Post(client, "/api/jobs", JsonContent.Create(body), "retry-2");
        Assert.Equal(HttpStatusCode.Accepted, fresh.StatusCode);
        var badKey = await Post(client, "/api/jobs", JsonContent.Create(body), new string('k', 201));
        Assert.Contains(IdempotencyKeys.Header, await AuthTests.AssertProblemAsync(badKey, HttpStatusCode.BadRequest));
        Assert.Equal(
            2,
            (await client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total
        );

        // Uploads: the same key and bytes give the dataset created first; other bytes under that key are a 409.
        var first = await Post(client, "/api/datasets", UploadFiles.Form("file", Zip, "set.zip"), "upload-1");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var again = await Post(client, "/api/datasets", UploadFiles.Form("file", Zip, "set.zip"), "upload-1");
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.True(again.Headers.Contains(IdempotencyKeys.ReplayedHeader));
        Assert.Equal(
            (await first.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!.Id,
            (await again.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!.Id
        );
        var changed = UploadFiles.Zip(
            ("c.png", UploadFiles.Png(8, 8, new Rgb24(0, 0, 255))),
            ("d.png", UploadFiles.Png(8, 8, new Rgb24(9, 9, 9)))
        );
        await AuthTests.AssertProblemAsync(
            await Post(client, "/api/datasets", UploadFiles.Form("file", changed, "set.zip"), "upload-1"),
            HttpStatusCode.Conflict
        );
    }

    private static Task<HttpResponseMessage> Post(HttpClient client, string path, HttpContent content, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TryAddWithoutValidation(IdempotencyKeys.Header, key);
        return client.SendAsync(request);
    }

    private static async Task AssertTooManyAsync(HttpResponseMessage response)
    {
        await AuthTests.AssertProblemAsync(response, HttpStatusCode.TooManyRequests);
        Assert.True(
            response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1),
            $"Retry-After: {response.Headers.RetryAfter}"
        );
    }
}
