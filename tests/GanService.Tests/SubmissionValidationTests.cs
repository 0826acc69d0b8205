using System.Net;
using System.Net.Http.Json;
using System.Text;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Tests;

/// <summary>
/// A bad job submission is a 400 ProblemDetails naming the field, a misspelt field included, and stores nothing;
/// a minimal one gets the documented defaults.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SubmissionValidationTests(PostgresServer postgres) : ApiOnlyHost(postgres)
{
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
        var response = await Client.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal(400, problem.Status);
        Assert.True(
            problem.Errors.ContainsKey(field),
            $"errors name {string.Join(", ", problem.Errors.Keys)}, not {field}"
        );
        var page = (await Client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!;
        Assert.Equal(0, page.Total);
    }

    [Fact]
    public async Task A_missing_dataset_is_named_with_what_is_installed_and_no_server_path()
    {
        var response = await Client.PostAsJsonAsync(
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
        var response = await Client.PostAsJsonAsync(
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
        var response = await Client.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
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
            (await Client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total
        );
    }

    [Fact]
    public async Task A_minimal_request_gets_the_documented_defaults_and_a_recorded_seed()
    {
        var job = await Service.SubmitAsync(Client, new { dataset = "synthetic", model = new { family = "dcgan" } });
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
        Assert.Equal(job.Seed, (await GanServiceFactory.GetJobAsync(Client, job.Id)).Seed);
    }
}
