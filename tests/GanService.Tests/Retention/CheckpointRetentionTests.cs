using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using GanService.Checkpoints;
using GanService.Gan.Checkpoints;
using GanService.Jobs;
using GanService.Jobs.Worker;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace GanService.Tests;

/// <summary>
/// <c>checkpoints.keep</c>: validated, stored in the recipe, and applied as each checkpoint is stored, sparing the
/// best and the pinned ones. The checkpoints are stored through the store as a worker stores them, on a job made
/// Running by hand, so each fact decides exactly which steps exist.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CheckpointRetentionTests(PostgresServer postgres)
    : ApiOnlyHost(postgres, new Dictionary<string, string?> { ["Gan:MaxCheckpointsPerJob"] = "10" })
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(11)]
    public async Task A_keep_out_of_range_is_a_400_naming_the_field(int keep)
    {
        using var answer = await Client.PostAsJsonAsync("/api/jobs", Job(keep));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("\"checkpoints.keep\"", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Keep_lifts_the_checkpoint_count_limit_and_shows_in_the_job()
    {
        // 100 checkpoints are more than this host allows a job to write, but only 3 are kept.
        var job = await Service.SubmitAsync(Client, Job(3));

        Assert.Equal(3, job.Checkpoints?.Keep);
        Assert.Equal(3, (await GanServiceFactory.GetJobAsync(Client, job.Id)).Checkpoints?.Keep);
        using var refused = await Client.PostAsJsonAsync("/api/jobs", Job(null));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task The_newest_the_best_and_the_pinned_checkpoints_are_kept()
    {
        var job = await Service.SubmitAsync(Client, Job(2));
        var lease = await RunningAsync(job.Id);
        await SaveAsync(lease, 1, 2, 3);
        Assert.Equal(new long[] { 2, 3 }, await StepsAsync(job.Id));
        Assert.Equal(HttpStatusCode.NoContent, (await Client.PostAsync(Pin(job.Id, 2), null)).StatusCode);
        await SqlAsync($"""UPDATE gan.training_jobs SET "BestStep" = 3, "BestFd" = 1 WHERE "Id" = '{job.Id}'""");

        await SaveAsync(lease, 4, 5, 6);

        var kept = await ListAsync(job.Id);
        Assert.Equal(new long[] { 2, 3, 5, 6 }, kept.Select(c => c.Step));
        Assert.Equal(new[] { true, false, false, false }, kept.Select(c => c.Pinned));
        Assert.Equal(new[] { false, true, false, false }, kept.Select(c => c.Best));
        var stored = (await GanServiceFactory.GetJobAsync(Client, job.Id)).StoredBytes;
        Assert.Equal(4 * (Bundle(1).Length + Preview.Length), stored);
    }

    [Fact]
    public async Task Unpinning_lets_retention_remove_the_checkpoint_and_storedBytes_shrinks()
    {
        var job = await Service.SubmitAsync(Client, Job(1));
        var lease = await RunningAsync(job.Id);
        await SaveAsync(lease, 1);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.PostAsync(Pin(job.Id, 1), null)).StatusCode);
        await SaveAsync(lease, 2, 3);
        Assert.Equal(new long[] { 1, 3 }, await StepsAsync(job.Id));
        var before = (await GanServiceFactory.GetJobAsync(Client, job.Id)).StoredBytes;

        using var unpinned = await Client.DeleteAsync(Pin(job.Id, 1));

        Assert.Equal(HttpStatusCode.NoContent, unpinned.StatusCode);
        Assert.Equal(new long[] { 3 }, await StepsAsync(job.Id));
        var after = (await GanServiceFactory.GetJobAsync(Client, job.Id)).StoredBytes;
        Assert.Equal(before / 2, after);
        var listed = await Client.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json);
        Assert.Equal(after, listed!.Items.Single(j => j.Id == job.Id).StoredBytes);
        using var gone = await Client.PostAsync(Pin(job.Id, 1), null);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_checkpoint_a_waiting_job_starts_from_is_kept_until_that_job_has_its_own()
    {
        var source = await Service.SubmitAsync(Client, Job(1));
        var lease = await RunningAsync(source.Id);
        await SaveAsync(lease, 1);
        var waiting = await Service.SubmitAsync(
            Client,
            new
            {
                dataset = "synthetic",
                model = new { family = "dcgan" },
                training = new { steps = 10, batchSize = 8 },
                checkpointEvery = 1,
                initFrom = new { job = source.Id, step = 1 },
            }
        );

        await SaveAsync(lease, 2, 3);
        Assert.Equal(new long[] { 1, 3 }, await StepsAsync(source.Id));

        var own = await RunningAsync(waiting.Id);
        await SaveAsync(own, 1);
        await SaveAsync(lease, 4);
        Assert.Equal(new long[] { 4 }, await StepsAsync(source.Id));
    }

    [Fact]
    public async Task The_host_default_applies_when_the_request_sets_none()
    {
        await using var service = new GanServiceFactory(
            await Postgres.CreateDatabaseAsync(),
            role: "api",
            settings: new Dictionary<string, string?> { ["Gan:Retention:Keep"] = "4" }
        );
        using var client = service.CreateClient();

        Assert.Equal(4, (await service.SubmitAsync(client, Job(null))).Checkpoints?.Keep);
        Assert.Equal(7, (await service.SubmitAsync(client, Job(7))).Checkpoints?.Keep);
    }

    [Fact]
    public async Task Swagger_documents_deleting_and_pinning()
    {
        var document = JsonNode.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json"))!;
        var paths = document["paths"]!;
        var pin = paths["/api/jobs/{id}/checkpoints/{step}/pin"]!;

        foreach (var operation in new[] { paths["/api/jobs/{id}"]!["delete"]!, pin["post"]!, pin["delete"]! })
        {
            Assert.False(string.IsNullOrEmpty((string?)operation["summary"]));
            Assert.NotNull(operation["responses"]!["204"]);
            Assert.NotNull(operation["responses"]!["404"]);
        }
        var request = document["components"]!["schemas"]!["CreateJobRequest"]!;
        Assert.NotNull(request["properties"]!["checkpoints"]);
    }

    private static object Job(int? keep) =>
        new
        {
            dataset = "synthetic",
            model = new { family = "dcgan" },
            training = new { steps = 100, batchSize = 8 },
            checkpointEvery = 1,
            checkpoints = new { keep },
        };

    private static string Pin(Guid id, long step) => $"/api/jobs/{id}/checkpoints/{step}/pin";

    /// <summary>The job as a worker's first attempt holds it (no worker runs on this host).</summary>
    private async Task<JobLease> RunningAsync(Guid id)
    {
        await SqlAsync($"""UPDATE gan.training_jobs SET "Status" = 'Running', "Attempts" = 1 WHERE "Id" = '{id}'""");
        return new JobLease(id, 1);
    }

    private async Task SaveAsync(JobLease lease, params long[] steps)
    {
        var store = Service.Services.GetRequiredService<ICheckpointStore>();
        foreach (var step in steps)
        {
            var bundle = Bundle(step);
            await store.SaveAsync(lease, step, bundle, CheckpointBundle.Sha256(bundle), Preview, default);
        }
    }

    /// <summary>Not a real bundle: the store checks its checksum, not its contents.</summary>
    private static byte[] Bundle(long step) => Enumerable.Repeat((byte)step, 50_000).ToArray();

    private static readonly byte[] Preview = [1, 2, 3, 4];

    private async Task<List<CheckpointResponse>> ListAsync(Guid id) =>
        (
            await Client.GetFromJsonAsync<List<CheckpointResponse>>(
                $"/api/jobs/{id}/checkpoints",
                GanServiceFactory.Json
            )
        )!;

    private async Task<List<long>> StepsAsync(Guid id) => [.. (await ListAsync(id)).Select(c => c.Step)];

    private async Task SqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Service.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
