using System.Net.Http.Json;
using GanService.Jobs;

namespace GanService.Benchmarks;

/// <summary>
/// Time from <c>POST /api/jobs</c> to Running with the API (this process) and the worker (a separate process, as
/// deployed) apart: each job's <c>startedAt</c> minus its <c>createdAt</c>, one job at a time on an idle worker.
/// </summary>
internal static class QueueBenchmark
{
    public static async Task Run(string connectionString, int jobs)
    {
        await using var api = new BenchmarkHost(
            connectionString,
            "api",
            ("Gan:RateLimits:SubmissionsPerMinute", "100000")
        );
        using var client = api.CreateClient();
        await using var worker = WorkerProcess.Start(connectionString);
        var latencies = new List<double>();
        for (int i = 0; i < jobs + 3; i++) // the first three warm the worker up and are not counted
        {
            var response = await client.PostAsJsonAsync(
                "/api/jobs",
                new
                {
                    dataset = "synthetic",
                    model = new
                    {
                        family = "dcgan",
                        imageSize = 28,
                        channels = 1,
                    },
                    training = new { steps = 1, batchSize = 8 },
                    checkpointEvery = 1,
                    seed = i,
                    device = "cpu",
                    evaluation = new { every = 0 }, // training alone; evaluations are measured on their own
                }
            );
            response.EnsureSuccessStatusCode();
            var job = (await response.Content.ReadFromJsonAsync<JobResponse>(BenchmarkHost.Json))!;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (job.Status is JobStatus.Queued or JobStatus.Running && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
                job = (await client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}", BenchmarkHost.Json))!;
            }
            if (job.Status != JobStatus.Succeeded)
                throw new InvalidOperationException($"Queue benchmark job ended {job.Status}: {job.Error}");
            if (i >= 3)
                latencies.Add((job.StartedAt!.Value - job.CreatedAt).TotalMilliseconds);
        }
        latencies.Sort();
        Console.WriteLine();
        Console.WriteLine(
            $"Queue: POST /api/jobs to Running, API and worker in separate processes, {jobs} jobs one at a time."
        );
        Console.WriteLine();
        Console.WriteLine("| p50 ms | p99 ms | max ms |");
        Console.WriteLine("|---:|---:|---:|");
        Console.WriteLine(
            $"| {latencies[latencies.Count / 2]:F0} | "
                + $"{latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * 0.99))]:F0} | {latencies[^1]:F0} "
                + "|"
        );
    }
}
