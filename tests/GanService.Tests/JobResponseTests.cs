using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using GanService.Jobs;

namespace GanService.Tests;

/// <summary>
/// A job's answer shows the fields its family reads and no others, so that nothing in it reads as a setting the
/// job never used; and it says when a job waits for a kind of worker the fleet does not have.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class JobResponseTests(PostgresServer postgres) : ApiOnlyHost(postgres)
{
    private static readonly string[] FamilyOnly =
    [
        "model.width",
        "model.attentionResolution",
        "model.mappingLayers",
        "model.styleMixing",
        "training.orthogonalRegularization",
        "training.imagesPerPhase",
    ];

    public static TheoryData<string, string[]> Families =>
        new()
        {
            { "dcgan", [] },
            { "conditional-dcgan", [] },
            { "biggan", ["model.width", "model.attentionResolution", "training.orthogonalRegularization"] },
            { "progan", ["model.width", "training.imagesPerPhase"] },
            { "stylegan", ["model.width", "model.mappingLayers", "model.styleMixing"] },
        };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task A_jobs_answer_shows_only_the_fields_its_family_reads(string family, string[] shown)
    {
        var body = $$$"""{"dataset":"synthetic","model":{"family":"{{{family}}}","imageSize":32,"channels":3}}""";
        var created = await Client.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        foreach (var answer in new[] { created, await Client.GetAsync($"/api/jobs/{id}") })
        {
            var job = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!.AsObject();
            var present = FamilyOnly.Where(path => At(job, path) is not null).ToArray();
            Assert.Equal(shown, present);
            Assert.NotNull(At(job, "model.imageSize")); // every family's fields stay
            Assert.NotNull(At(job, "training.batchSize"));
        }
    }

    [Fact]
    public async Task A_cuda_job_that_no_gpu_worker_takes_carries_a_warning_once_it_has_waited_the_bound()
    {
        // This class's host waits the default 5 minutes; a second one on its own database waits 1 second.
        await using var quick = new GanServiceFactory(
            await Postgres.CreateDatabaseAsync(),
            role: "api",
            settings: new Dictionary<string, string?> { ["Gan:GpuWaitWarning"] = "00:00:01" }
        );
        using var quickClient = quick.CreateClient();
        var patient = await quick.SubmitAsync(Client, TestData.SyntheticJob(device: "cuda"));
        var cuda = await quick.SubmitAsync(quickClient, TestData.SyntheticJob(device: "cuda"));
        var cpu = await quick.SubmitAsync(quickClient, TestData.SyntheticJob(device: "cpu"));
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        var waiting = await GanServiceFactory.GetJobAsync(quickClient, cuda.Id);
        Assert.Equal(JobStatus.Queued, waiting.Status);
        Assert.Contains("No worker with a GPU", waiting.Warning);
        Assert.Null((await GanServiceFactory.GetJobAsync(quickClient, cpu.Id)).Warning);
        var listed = await quickClient.GetFromJsonAsync<JsonObject>("/api/jobs");
        var warnings = listed!["items"]!.AsArray().Select(j => j!["warning"]?.GetValue<string>()).ToList();
        Assert.Equal(1, warnings.Count(w => w is not null));
        Assert.Null((await GanServiceFactory.GetJobAsync(Client, patient.Id)).Warning);
    }

    private static JsonNode? At(JsonObject job, string path)
    {
        var (section, field) = (path.Split('.')[0], path.Split('.')[1]);
        return job[section]?.AsObject()[field];
    }
}
