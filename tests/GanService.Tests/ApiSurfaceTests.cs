using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Tests;

/// <summary>
/// The API around submitted jobs: lists and pages, bad queries are 400s naming the field, unknown ids 404 and
/// sampling without a checkpoint 409; a queued job cancels at once; Swagger, health and the dashboard answer.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ApiSurfaceTests(PostgresServer postgres) : ApiOnlyHost(postgres)
{
    [Fact]
    public async Task Jobs_list_pages_and_filters_by_status()
    {
        for (int i = 0; i < 3; i++)
            await Service.SubmitAsync(Client, TestData.SyntheticJob());
        var page = (
            await Client.GetFromJsonAsync<PagedList<JobResponse>>(
                "/api/jobs?status=queued&page=2&pageSize=2",
                GanServiceFactory.Json
            )
        )!;
        Assert.True(page.Total >= 3);
        Assert.Equal(2, page.Page);
        Assert.InRange(page.Items.Count, 1, 2);
        var none = (
            await Client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs?status=Succeeded", GanServiceFactory.Json)
        )!;
        Assert.Equal(0, none.Total);
    }

    [Fact]
    public async Task Metrics_and_checkpoints_are_paged_with_the_total_and_a_link_to_the_next_page()
    {
        var job = await Service.SubmitAsync(Client, TestData.SyntheticJob());
        await using (var connection = new Npgsql.NpgsqlConnection(Service.ConnectionString))
        {
            await connection.OpenAsync();
            await using var insert = new Npgsql.NpgsqlCommand(
                """
                INSERT INTO gan.training_metrics ("JobId", "Step", "Epoch", "DiscriminatorLoss", "GeneratorLoss",
                    "RealScore", "FakeScore", "ImagesPerSecond", "RecordedAt")
                SELECT @id, s * 10, 0, 1, 1, 0.5, 0.5, 100, now() FROM generate_series(1, 5) s
                """,
                connection
            );
            insert.Parameters.AddWithValue("id", job.Id);
            Assert.Equal(5, await insert.ExecuteNonQueryAsync());
        }
        var all = await Client.GetAsync($"/api/jobs/{job.Id}/metrics");
        Assert.Equal(5, (await all.Content.ReadFromJsonAsync<List<MetricResponse>>(GanServiceFactory.Json))!.Count);
        Assert.Equal("5", all.Headers.GetValues("X-Total-Count").Single());
        Assert.False(all.Headers.Contains("Link"));

        var second = await Client.GetAsync($"/api/jobs/{job.Id}/metrics?page=2&pageSize=2");
        var rows = (await second.Content.ReadFromJsonAsync<List<MetricResponse>>(GanServiceFactory.Json))!;
        Assert.Equal([30L, 40L], rows.Select(m => m.Step));
        Assert.Equal(
            $"</api/jobs/{job.Id}/metrics?page=3&pageSize=2>; rel=\"next\"",
            second.Headers.GetValues("Link").Single()
        );
        var checkpoints = await Client.GetAsync($"/api/jobs/{job.Id}/checkpoints?pageSize=10");
        Assert.Equal("0", checkpoints.Headers.GetValues("X-Total-Count").Single());
        await AssertProblem($"/api/jobs/{job.Id}/metrics?pageSize=1001", "pageSize");
        await AssertProblem($"/api/jobs/{job.Id}/checkpoints?page=0", "page");
    }

    [Theory]
    [InlineData("/api/jobs?status=finished", "status")]
    [InlineData("/api/jobs?status=1", "status")]
    [InlineData("/api/jobs?page=0", "page")]
    [InlineData("/api/jobs?pageSize=101", "pageSize")]
    public async Task Bad_list_queries_are_400s(string url, string field) => await AssertProblem(url, field);

    [Theory]
    [InlineData("samples.png?count=0", "count")]
    [InlineData("samples.png?count=257", "count")]
    [InlineData("samples.png?count=4&columns=0", "columns")]
    [InlineData("samples.png?count=4&columns=65", "columns")]
    [InlineData("samples.png?seed=-1", "seed")]
    [InlineData("image.png?step=-5", "step")]
    [InlineData("samples.png?count=many", "count")]
    [InlineData("image.png?seed=x", "seed")]
    public async Task Bad_sampling_parameters_are_400s(string query, string field)
    {
        var job = await Service.SubmitAsync(Client, TestData.SyntheticJob());
        await AssertProblem($"/api/generators/{job.Id}/{query}", field);
    }

    [Fact]
    public async Task Unknown_ids_are_404_problems()
    {
        var unknown = Guid.NewGuid();
        foreach (
            var url in new[]
            {
                $"/api/jobs/{unknown}",
                $"/api/jobs/{unknown}/metrics",
                $"/api/jobs/{unknown}/checkpoints",
                $"/api/generators/{unknown}/samples.png",
                $"/api/generators/{unknown}/image.png?seed=1",
                $"/api/jobs/{unknown}/checkpoints/10/preview.png",
            }
        )
        {
            var response = await Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Client.PostAsync($"/api/jobs/{unknown}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task A_generator_without_checkpoints_is_409_and_a_step_it_never_wrote_404()
    {
        var queued = await Service.SubmitAsync(Client, TestData.SyntheticJob());
        var conflict = await Client.GetAsync($"/api/generators/{queued.Id}/samples.png?seed=1");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("checkpoint", (await conflict.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);
        Assert.Equal(
            HttpStatusCode.NotFound,
            (await Client.GetAsync($"/api/generators/{queued.Id}/samples.png?seed=1&step=10")).StatusCode
        );
    }

    [Fact]
    public async Task A_queued_job_is_cancelled_at_once()
    {
        var job = await Service.SubmitAsync(Client, TestData.SyntheticJob());
        var response = await Client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JobStatus.Cancelled, (await GanServiceFactory.GetJobAsync(Client, job.Id)).Status);
    }

    [Fact]
    public async Task Swagger_documents_every_endpoint()
    {
        var document = JsonNode.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json"))!;
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToHashSet();
        foreach (
            var path in new[]
            {
                "/api/jobs",
                "/api/jobs/{id}",
                "/api/jobs/{id}/metrics",
                "/api/jobs/{id}/cancel",
                "/api/jobs/{id}/checkpoints",
                "/api/jobs/{id}/checkpoints/{step}/preview.png",
                "/api/generators/{jobId}/samples.png",
                "/api/generators/{jobId}/image.png",
                "/api/generators/{jobId}/interpolation.png",
                "/api/generators/{jobId}/interpolation.gif",
                "/api/generators/{jobId}/mixing.png",
                "/api/datasets",
                "/api/datasets/{id}",
                "/api/datasets/{id}/preview.png",
            }
        )
            Assert.Contains(path, paths);
        var samples = document["paths"]!["/api/generators/{jobId}/samples.png"]!["get"]!;
        Assert.Equal(
            ["jobId", "count", "columns", "seed", "step", "label", "truncation", "noise", "mix", "mixFrom"],
            samples["parameters"]!.AsArray().Select(p => (string)p!["name"]!)
        );
        var interpolation = document["paths"]!["/api/generators/{jobId}/interpolation.gif"]!["get"]!;
        Assert.Equal(
            ["jobId", "from", "to", "steps", "step", "label", "truncation", "noise"],
            interpolation["parameters"]!.AsArray().Select(p => (string)p!["name"]!)
        );
        var upload = document["paths"]!["/api/datasets"]!["post"]!["requestBody"]!["content"]!["multipart/form-data"]!;
        Assert.NotNull(upload["schema"]);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/swagger/index.html")).StatusCode);
    }

    [Fact]
    public async Task Every_request_example_in_the_api_description_is_accepted()
    {
        var document = JsonNode.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json"))!;
        JsonObject Examples(string path) =>
            document["paths"]![path]!["post"]!["requestBody"]!["content"]!["application/json"]!["examples"]!.AsObject();

        var jobs = Examples("/api/jobs");
        Assert.Equal(Gan.Families.ModelFamily.All.Select(f => f.Name).Order(), jobs.Select(e => e.Key).Order());
        foreach (var (family, example) in jobs)
        {
            using var response = await Client.PostAsync(
                "/api/jobs",
                new StringContent(example!["value"]!.ToJsonString(), System.Text.Encoding.UTF8, "application/json")
            );
            Assert.True(
                response.StatusCode == HttpStatusCode.Accepted,
                $"{family}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}"
            );
        }
        Assert.Equal(
            1024,
            (int)Examples("/api/jobs/{id}/checkpoints/{step}/evaluation")["more samples"]!["value"]!["samples"]!
        );
        Assert.Equal("alice", (string)Examples("/api/keys")["alice"]!["value"]!["owner"]!);
    }

    [Fact]
    public async Task Health_answers_live_and_ready()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_needs_its_configured_credentials()
    {
        await using var guarded = new GanServiceFactory(
            await Postgres.CreateDatabaseAsync(),
            role: "api",
            settings: new Dictionary<string, string?>
            {
                ["Gan:DashboardUser"] = "ops",
                ["Gan:DashboardPassword"] = "s3cret",
            }
        );
        using var anonymous = guarded.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/hangfire")).StatusCode);
        using var authorised = guarded.CreateClient();
        authorised.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("ops:s3cret"u8.ToArray()));
        Assert.Equal(HttpStatusCode.OK, (await authorised.GetAsync("/hangfire")).StatusCode);
    }

    private async Task AssertProblem(string url, string field)
    {
        var response = await Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.True(
            problem.Errors.ContainsKey(field),
            $"errors name {string.Join(", ", problem.Errors.Keys)}, not {field}"
        );
    }
}
