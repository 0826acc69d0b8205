using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Tests;

/// <summary>
/// Bad input is a 400 ProblemDetails naming the field, unknown ids 404, sampling without a checkpoint 409, and a
/// rejected request writes nothing. An API-only host (no worker) keeps submitted jobs Queued.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ValidationTests(PostgresServer postgres) : IAsyncLifetime
{
    private GanServiceFactory service = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        client = service.CreateClient();
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await service.DisposeAsync();
    }

    public static TheoryData<string, string> InvalidJobs =>
        new()
        {
            { """{"model":{"family":"dcgan"}}""", "dataset" },
            { """{"dataset":"imagenet","model":{"family":"dcgan"}}""", "dataset" },
            { """{"dataset":"mnist","model":{"family":"dcgan"}}""", "dataset" }, // not installed where the tests point
            { """{"dataset":"synthetic"}""", "model" },
            { """{"dataset":"synthetic","model":{}}""", "model.family" },
            { """{"dataset":"synthetic","model":{"family":"vae"}}""", "model.family" },
            { """{"dataset":"synthetic","model":{"family":"dcgan","imageSize":48}}""", "model.imageSize" },
            { """{"dataset":"synthetic","model":{"family":"dcgan","channels":2}}""", "model.channels" },
            { """{"dataset":"synthetic","model":{"family":"dcgan","latentSize":0}}""", "model.latentSize" },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"steps":0}}""", "training.steps" },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"batchSize":0}}""",
                "training.batchSize"
            },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"batchSize":4097}}""",
                "training.batchSize"
            },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"learningRate":-0.001}}""",
                "training.learningRate"
            },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"learningRate":0}}""",
                "training.learningRate"
            },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"generatorLearningRate":2}}""",
                "training.generatorLearningRate"
            },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"discriminatorLearningRate":-1}}""",
                "training.discriminatorLearningRate"
            },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"beta1":1}}""", "training.beta1" },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"loss":"wasserstein-typo"}}""",
                "training.loss"
            },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"checkpointEvery":0}""", "checkpointEvery" },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":"""
                    + """{"steps":10000000},"checkpointEvery":1}""",
                "checkpointEvery"
            },
            { """{"dataset":"synthetic","model":{"family":"dcgan","normalization":"layer"}}""", "model.normalization" },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan","normalization":"batch"},"training":"""
                    + """{"loss":"wgan-gp"}}""",
                "model.normalization"
            },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"criticSteps":0}}""",
                "training.criticSteps"
            },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"gradientPenalty":-1}}""",
                "training.gradientPenalty"
            },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"r1":5000}}""", "training.r1" },
            {
                """{"dataset":"synthetic","model":{"family":"stylegan"},"training":{"r1Every":0}}""",
                "training.r1Every"
            },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"ema":1}}""", "training.ema" },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"augment":"color,blur"}}""",
                "training.augment"
            },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"device":"tpu"}""", "device" },
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"learningRate":"fast"}}""",
                "training.learningRate"
            },
            // Numbers in strings are read, named ones included: these reach the validator, which must reject them.
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"learningRate":"Infinity"}}""",
                "training.learningRate"
            },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"beta1":"NaN"}}""", "training.beta1" },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"l1":"-Infinity"}}""", "training.l1" },
            { """{"dataset":"synthetic","model":{"family":"dcgan","imageSize":"big"}}""", "model.imageSize" },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"seed":1.5}""", "seed" },
            { """{"dataset":"synthetic",""", "body" },
            { """not json""", "body" },
        };

    [Theory]
    [MemberData(nameof(InvalidJobs))]
    public async Task Each_invalid_field_is_a_400_naming_it_and_nothing_is_stored(string body, string field)
    {
        var response = await client.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal(400, problem.Status);
        Assert.True(
            problem.Errors.ContainsKey(field),
            $"errors name {string.Join(", ", problem.Errors.Keys)}, not {field}"
        );
        var page = (await client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!;
        Assert.Equal(0, page.Total);
    }

    [Fact]
    public async Task A_missing_dataset_is_named_with_what_is_installed_and_no_server_path()
    {
        var response = await client.PostAsJsonAsync(
            "/api/jobs",
            new { dataset = "mnist", model = new { family = "dcgan" } }
        );
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        var message = problem.Errors["dataset"][0];
        Assert.Contains("Installed: synthetic", message);
        Assert.DoesNotContain("/", message);
    }

    [Fact]
    public async Task Too_many_checkpoints_are_refused_with_the_limit()
    {
        var response = await client.PostAsJsonAsync(
            "/api/jobs",
            new
            {
                dataset = "synthetic",
                model = new { family = "dcgan" },
                training = new { steps = 10_000 },
                checkpointEvery = 5,
            }
        );
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["checkpointEvery"][
            0
        ];
        Assert.Contains("at most 1000", message);
        Assert.Contains("use at least 10", message);
    }

    public static TheoryData<string, string> MisspeltFields =>
        new()
        {
            {
                """{"dataset":"synthetic","model":{"family":"dcgan"},"training":{"batch_size":8}}""",
                "training.batch_size"
            },
            { """{"dataset":"synthetic","model":{"family":"dcgan","conditional":true}}""", "model.conditional" },
            { """{"dataset":"synthetic","model":{"family":"dcgan"},"checkpoint_every":5}""", "checkpoint_every" },
        };

    [Theory]
    [MemberData(nameof(MisspeltFields))]
    public async Task A_field_the_api_does_not_know_is_a_400_naming_it_not_a_default_silently_used(
        string body,
        string field
    )
    {
        var response = await client.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.True(
            problem.Errors.ContainsKey(field),
            $"errors name {string.Join(", ", problem.Errors.Keys)}, not {field}"
        );
        Assert.Contains("Unknown field", problem.Errors[field][0]);
        Assert.DoesNotContain("GanService.", problem.Errors[field][0] + problem.Detail); // no .NET type names
        Assert.Equal(
            0,
            (await client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total
        );
    }

    [Fact]
    public async Task A_minimal_request_gets_the_documented_defaults_and_a_recorded_seed()
    {
        var job = await service.SubmitAsync(client, new { dataset = "synthetic", model = new { family = "dcgan" } });
        Assert.Equal(JobStatus.Queued, job.Status);
        Assert.Equal((28, 1, 100), (job.Model.ImageSize, job.Model.Channels, job.Model.LatentSize));
        Assert.Equal(
            (1000, 64, 2e-4, 2e-4, 0.5),
            (
                job.Training.Steps,
                job.Training.BatchSize,
                job.Training.GeneratorLearningRate,
                job.Training.DiscriminatorLearningRate,
                job.Training.Beta1
            )
        );
        Assert.Equal(("bce", 100, "auto"), (job.Training.Loss, job.CheckpointEvery, job.Device));
        Assert.True(job.Seed >= 0);
        Assert.Equal(job.Seed, (await GanServiceFactory.GetJobAsync(client, job.Id)).Seed);
    }

    [Fact]
    public async Task Jobs_list_pages_and_filters_by_status()
    {
        for (int i = 0; i < 3; i++)
            await service.SubmitAsync(client, TestData.SyntheticJob());
        var page = (
            await client.GetFromJsonAsync<PagedList<JobResponse>>(
                "/api/jobs?status=queued&page=2&pageSize=2",
                GanServiceFactory.Json
            )
        )!;
        Assert.True(page.Total >= 3);
        Assert.Equal(2, page.Page);
        Assert.InRange(page.Items.Count, 1, 2);
        var none = (
            await client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs?status=Succeeded", GanServiceFactory.Json)
        )!;
        Assert.Equal(0, none.Total);
    }

    [Fact]
    public async Task Metrics_and_checkpoints_are_paged_with_the_total_and_a_link_to_the_next_page()
    {
        var job = await service.SubmitAsync(client, TestData.SyntheticJob());
        await using (var connection = new Npgsql.NpgsqlConnection(service.ConnectionString))
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
        var all = await client.GetAsync($"/api/jobs/{job.Id}/metrics");
        Assert.Equal(5, (await all.Content.ReadFromJsonAsync<List<MetricResponse>>(GanServiceFactory.Json))!.Count);
        Assert.Equal("5", all.Headers.GetValues("X-Total-Count").Single());
        Assert.False(all.Headers.Contains("Link"));

        var second = await client.GetAsync($"/api/jobs/{job.Id}/metrics?page=2&pageSize=2");
        var rows = (await second.Content.ReadFromJsonAsync<List<MetricResponse>>(GanServiceFactory.Json))!;
        Assert.Equal([30L, 40L], rows.Select(m => m.Step));
        Assert.Equal(
            $"</api/jobs/{job.Id}/metrics?page=3&pageSize=2>; rel=\"next\"",
            second.Headers.GetValues("Link").Single()
        );
        var checkpoints = await client.GetAsync($"/api/jobs/{job.Id}/checkpoints?pageSize=10");
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
        var job = await service.SubmitAsync(client, TestData.SyntheticJob());
        await AssertProblem($"/api/generators/{job.Id}/{query}", field);
    }

    [Fact]
    public async Task Unknown_ids_are_404_and_a_generator_without_checkpoints_is_409()
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
            var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/api/jobs/{unknown}/cancel", null)).StatusCode);

        var queued = await service.SubmitAsync(client, TestData.SyntheticJob());
        var conflict = await client.GetAsync($"/api/generators/{queued.Id}/samples.png?seed=1");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("checkpoint", (await conflict.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);
        Assert.Equal(
            HttpStatusCode.NotFound,
            (await client.GetAsync($"/api/generators/{queued.Id}/samples.png?seed=1&step=10")).StatusCode
        );
    }

    [Fact]
    public async Task A_queued_job_is_cancelled_at_once()
    {
        var job = await service.SubmitAsync(client, TestData.SyntheticJob());
        var response = await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JobStatus.Cancelled, (await GanServiceFactory.GetJobAsync(client, job.Id)).Status);
    }

    [Fact]
    public async Task Swagger_documents_every_endpoint_and_health_answers()
    {
        var document = JsonNode.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"))!;
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
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_needs_its_configured_credentials()
    {
        await using var guarded = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
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
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.True(
            problem.Errors.ContainsKey(field),
            $"errors name {string.Join(", ", problem.Errors.Keys)}, not {field}"
        );
    }
}
