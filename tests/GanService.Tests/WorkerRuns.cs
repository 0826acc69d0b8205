using System.Net.Http.Json;
using GanService.Checkpoints;
using GanService.Jobs;

namespace GanService.Tests;

/// <summary>
/// What the worker-process tests share: a small DCGAN recipe checkpointing every <see cref="Interval"/> steps,
/// and waits that fail at once, with the worker's log, when the job ends otherwise or the worker dies.
/// </summary>
public static class WorkerRuns
{
    public const int Interval = 20;
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public static object Recipe(string name) =>
        new
        {
            name,
            dataset = "synthetic",
            model = new
            {
                family = "dcgan",
                imageSize = 28,
                channels = 1,
            },
            training = new { steps = 160, batchSize = 32 },
            checkpointEvery = Interval,
            seed = 11,
            device = "cpu",
        };

    public static Task WaitSucceededAsync(HttpClient client, Guid id, WorkerProcess worker) =>
        WaitWhileWorkingAsync(client, id, worker, j => j.Status == JobStatus.Succeeded);

    /// <summary>
    /// Polls until <paramref name="done"/>, failing at once (with the worker's log)
    /// if the job ends otherwise or the worker dies.
    /// </summary>
    public static async Task WaitWhileWorkingAsync(
        HttpClient client,
        Guid id,
        WorkerProcess worker,
        Func<JobResponse, bool> done
    )
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var job = await GanServiceFactory.GetJobAsync(client, id);
            if (done(job))
                return;
            Assert.True(
                job.Status is JobStatus.Queued or JobStatus.Running,
                $"job ended {job.Status}: {job.Error}\n{worker.Log}"
            );
            Assert.False(
                worker.HasExited,
                $"the worker exited with {(worker.HasExited ? worker.ExitCode : 0)}:\n{worker.Log}"
            );
            Assert.True(DateTime.UtcNow < deadline, $"job still {job.Status} at step {job.Step}\n{worker.Log}");
            await Task.Delay(100);
        }
    }

    public static async Task<List<CheckpointResponse>> CheckpointsAsync(HttpClient client, Guid id) =>
        (
            await client.GetFromJsonAsync<List<CheckpointResponse>>(
                $"/api/jobs/{id}/checkpoints",
                GanServiceFactory.Json
            )
        )!;

    public static async Task<List<AttemptResponse>> AttemptsAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<List<AttemptResponse>>($"/api/jobs/{id}/attempts", GanServiceFactory.Json))!;
}
