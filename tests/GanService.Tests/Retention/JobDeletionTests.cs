using System.Net;
using System.Net.Http.Json;
using GanService.Evaluations;
using GanService.Events;
using GanService.Jobs;
using GanService.Jobs.Worker;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace GanService.Tests;

/// <summary>
/// DELETE /api/jobs/{id}: every row of the job goes with it, a running job's worker stops writing, requests racing
/// the delete answer 200 or 404, and only the owner may delete.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class JobDeletionTests(PostgresServer postgres, BuiltOnce<DeletionHost> hosts, ITestOutputHelper output)
    : IClassFixture<BuiltOnce<DeletionHost>>
{
    private Task<DeletionHost> HostAsync() => hosts.GetAsync(() => DeletionHost.StartAsync(postgres));

    [Fact]
    public async Task A_finished_job_goes_with_all_its_rows_and_its_hangfire_job()
    {
        var host = await HostAsync();
        var job = await host.TrainAsync(DeletionHost.TinyJob());
        var hangfireJobId = await host.HangfireJobIdAsync(job.Id);
        await using (var db = await ContextAsync(host))
        {
            db.Evaluations.Add(Evaluation(job.Id));
            db.RealStatistics.Add(SharedStatistics());
            await db.SaveChangesAsync();
        }
        var before = await host.RowsAsync(job.Id);
        Assert.All(new[] { "checkpoints", "training_metrics", "job_attempts", "evaluations", "job_events" }, t =>
            Assert.True(before[t] > 0, $"{t} had no rows to delete")
        );

        using var deleted = await host.Alice.DeleteAsync($"/api/jobs/{job.Id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.All(await host.RowsAsync(job.Id), r => Assert.True(r.Value == 0, $"{r.Key} kept {r.Value} rows"));
        Assert.Equal("Deleted", host.HangfireState(hangfireJobId!));
        foreach (var url in Urls(job.Id))
        {
            using var gone = await host.Alice.GetAsync(url);
            Assert.True(gone.StatusCode == HttpStatusCode.NotFound, $"{url} answered {gone.StatusCode}");
        }
        await using (var db = await ContextAsync(host))
            Assert.True(await db.RealStatistics.AnyAsync(), "the shared real statistics went with the job");
        // Idempotent the way GET is: the job is gone, so a repeated delete finds nothing.
        using var again = await host.Alice.DeleteAsync($"/api/jobs/{job.Id}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Another_owners_job_is_not_found_and_stays()
    {
        var host = await HostAsync();
        var job = await host.Service.SubmitAsync(host.Alice, DeletionHost.TinyJob(steps: 2));

        using var refused = await host.Bob.DeleteAsync($"/api/jobs/{job.Id}");
        using var still = await host.Alice.GetAsync($"/api/jobs/{job.Id}");

        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        using var own = await host.Alice.DeleteAsync($"/api/jobs/{job.Id}");
        Assert.Equal(HttpStatusCode.NoContent, own.StatusCode);
    }

    [Fact]
    public async Task A_retried_submission_after_the_delete_creates_a_new_job()
    {
        var host = await HostAsync();
        async Task<HttpResponseMessage> SubmitAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs")
            {
                Content = JsonContent.Create(DeletionHost.TinyJob(steps: 2)),
            };
            request.Headers.Add("Idempotency-Key", "deleted-job");
            return await host.Alice.SendAsync(request);
        }
        using var first = await SubmitAsync();
        using var deleted = await host.Alice.DeleteAsync(first.Headers.Location);

        using var retried = await SubmitAsync();

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        Assert.NotEqual(first.Headers.Location, retried.Headers.Location);
    }

    [Fact]
    public async Task A_running_job_stops_writes_nothing_more_and_frees_its_dataset()
    {
        var host = await HostAsync();
        var dataset = await host.UploadDatasetAsync();
        var job = await host.Service.SubmitAsync(
            host.Alice,
            DeletionHost.TinyJob(steps: 3000, checkpointEvery: 3, dataset: dataset.ToString())
        );
        await GanServiceFactory.WaitForAsync(host.Alice, job.Id, j => j.Status == JobStatus.Running && j.Step > 3);
        using var inUse = await host.Alice.DeleteAsync($"/api/datasets/{dataset}");
        Assert.Equal(HttpStatusCode.Conflict, inUse.StatusCode);

        using var deleted = await host.Alice.DeleteAsync($"/api/jobs/{job.Id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var stopped = $"Job {job.Id} attempt 1 stopped";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!host.Service.Errors.Entries.Any(e => e.Contains(stopped)) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Contains(host.Service.Errors.Entries, e => e.Contains(stopped));
        output.WriteLine(string.Join("\n", host.Service.Errors.Entries.Where(e => e.Contains(job.Id.ToString()))));
        await Task.Delay(1500); // a write after the stop would land in this time
        Assert.All(await host.RowsAsync(job.Id), r => Assert.True(r.Value == 0, $"{r.Key} has {r.Value} rows"));
        Assert.Empty(host.Errors);
        // The reconciler requeues only rows it finds, so nothing brings the job back.
        Assert.Equal(0, await host.Service.Services.GetRequiredService<JobReconciler>().ReconcileAsync(default));
        using var notFound = await host.Alice.GetAsync($"/api/jobs/{job.Id}");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        using var datasetGone = await host.Alice.DeleteAsync($"/api/datasets/{dataset}");
        Assert.Equal(HttpStatusCode.NoContent, datasetGone.StatusCode);
    }

    [Fact]
    public async Task Sampling_and_exporting_while_the_job_is_deleted_answer_200_or_404()
    {
        var host = await HostAsync();
        var job = await host.TrainAsync(DeletionHost.TinyJob());
        var samples = Enumerable
            .Range(0, 12)
            .Select(async i =>
            {
                await Task.Delay(i * 15);
                using var answer = await host.Alice.GetAsync(
                    i % 3 == 0
                        ? $"/api/generators/{job.Id}/export.zip?step={(i % 2 == 0 ? 2 : 4)}"
                        : $"/api/generators/{job.Id}/samples.png?count=4&seed={i}&step={(i % 2 == 0 ? 2 : 4)}"
                );
                return answer.StatusCode;
            })
            .ToList();
        await Task.Delay(40);

        using var deleted = await host.Alice.DeleteAsync($"/api/jobs/{job.Id}");
        var answers = await Task.WhenAll(samples);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.All(answers, a => Assert.True(a is HttpStatusCode.OK or HttpStatusCode.NotFound, $"answered {a}"));
        Assert.Contains(HttpStatusCode.NotFound, answers);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public async Task Open_streams_of_the_job_end_with_a_deleted_event()
    {
        var host = await HostAsync();
        var job = await host.Service.SubmitAsync(host.Alice, DeletionHost.TinyJob(steps: 3000, checkpointEvery: 50));
        var patience = TimeSpan.FromMinutes(1);
        // Each stream has sent something (so it is subscribed) before the delete.
        var ownOpened = new TaskCompletionSource();
        var allOpened = new TaskCompletionSource();
        var own = EventStream.ReadAsync(host.Alice, $"/api/jobs/{job.Id}/events", patience, enough: _ =>
        {
            ownOpened.TrySetResult();
            return false;
        });
        var all = EventStream.ReadAsync(host.Alice, "/api/events", patience, enough: events =>
        {
            allOpened.TrySetResult();
            return events[^1].Type == JobEventTypes.Deleted;
        });
        await Task.WhenAll(ownOpened.Task, allOpened.Task).WaitAsync(patience);

        using var deleted = await host.Alice.DeleteAsync($"/api/jobs/{job.Id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var ended = await own;
        Assert.Equal(JobEventTypes.Deleted, ended[^1].Type);
        Assert.Equal(job.Id, ended[^1].Data.JobId);
        Assert.Equal(job.Id, (await all)[^1].Data.JobId);
    }

    [Fact]
    public async Task An_evaluation_finished_after_the_delete_stores_nothing()
    {
        var host = await HostAsync();
        var job = await host.TrainAsync(DeletionHost.TinyJob());
        using var deleted = await host.Alice.DeleteAsync($"/api/jobs/{job.Id}");

        bool stored = await host
            .Service.Services.GetRequiredService<EvaluationStore>()
            .SaveAsync(Evaluation(job.Id), 64, default);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(stored);
        Assert.All(await host.RowsAsync(job.Id), r => Assert.True(r.Value == 0, $"{r.Key} has {r.Value} rows"));
    }

    private static IEnumerable<string> Urls(Guid id) =>
        [
            $"/api/jobs/{id}",
            $"/api/jobs/{id}/checkpoints",
            $"/api/jobs/{id}/metrics",
            $"/api/jobs/{id}/checkpoints/2/preview.png",
            $"/api/generators/{id}/samples.png?count=1",
        ];

    private static async Task<GanDbContext> ContextAsync(DeletionHost host) =>
        await host.Service.Services.GetRequiredService<IDbContextFactory<GanDbContext>>().CreateDbContextAsync();

    private static EvaluationRecord Evaluation(Guid jobId) =>
        new()
        {
            JobId = jobId,
            Step = 4,
            Samples = 64,
            Status = EvaluationStatus.Succeeded,
            Network = "test",
            Fd = 1,
            CreatedAt = DateTimeOffset.UtcNow,
        };

    private static RealStatisticsRecord SharedStatistics() =>
        new()
        {
            Key = "deletion-test",
            DatasetSha256 = "none",
            Domain = "A",
            Network = "test",
            Statistics = [1, 2, 3],
            CreatedAt = DateTimeOffset.UtcNow,
        };
}
