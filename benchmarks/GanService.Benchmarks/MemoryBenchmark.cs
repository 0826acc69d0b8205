using System.Diagnostics;
using System.Net.Http.Json;
using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Training;
using GanService.Jobs;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

/// <summary>
/// Checkpoint save and load times, and the resident memory of a worker through a long job (it must stay flat: one
/// dispose scope per step, no growth from the loop, the batches, the progress writes or the allocator).
/// </summary>
internal static class MemoryBenchmark
{
    public static void Checkpoints(int size, int channels)
    {
        var plan = new TrainingPlan(
            new ModelRecipe(ImageSize: size, Channels: channels),
            new OptimizerRecipe(),
            10,
            64,
            Seed: 1
        );
        using var data = SyntheticBlobs.Create(size, channels, seed: 1);
        using var trainer = GanTrainer.Create(plan, data, CPU);
        trainer.Train(2);
        var save = new List<double>();
        var load = new List<double>();
        byte[] bundle = [];
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            bundle = trainer.Checkpoint();
            save.Add(clock.Elapsed.TotalMilliseconds);
            clock.Restart();
            using (Trainers.Resume(bundle, new TrainingData(data, null), CPU))
                load.Add(clock.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine(
            $"| DCGAN {size}x{size}x{channels} | {bundle.Length / 1e6:F1} MB | {Stopwatches.Median(save):F1} | "
                + $"{Stopwatches.Median(load):F1} |"
        );
    }

    /// <summary>
    /// The resident memory of a worker process (started as docker-compose starts one) through one long job: sampled
    /// every second; "settled" is the first sample a tenth of the job after the first checkpoint: until then the
    /// allocator's and the GC's high-water marks, and the first checkpoint's buffers, still add 50-80 MiB.
    /// </summary>
    public static async Task WorkerRss(string connectionString, int steps)
    {
        await using var api = new BenchmarkHost(connectionString, "api");
        using var client = api.CreateClient();
        await using var worker = WorkerProcess.Start(connectionString);
        int checkpointEvery = Math.Max(1, steps / 5);
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
                training = new { steps, batchSize = 64 },
                checkpointEvery,
                seed = 1,
                device = "cpu",
                evaluation = new { every = 0 }, // training alone; evaluations are measured on their own
            }
        );
        response.EnsureSuccessStatusCode();
        var job = (await response.Content.ReadFromJsonAsync<JobResponse>(BenchmarkHost.Json))!;
        var samples = new List<(long Step, double MiB)>();
        double peak = 0;
        while (job.Status is JobStatus.Queued or JobStatus.Running)
        {
            await Task.Delay(1000);
            job = (await client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}", BenchmarkHost.Json))!;
            var (resident, hwm) = worker.MemoryMiB();
            if (job.Status == JobStatus.Running)
                samples.Add((job.Step, resident));
            peak = hwm;
        }
        if (job.Status != JobStatus.Succeeded || samples.Count == 0)
            throw new InvalidOperationException($"Memory benchmark job ended {job.Status}: {job.Error}");
        var beforeCheckpoint = samples.LastOrDefault(s => s.Step < checkpointEvery, samples[0]);
        var settled = samples.FirstOrDefault(s => s.Step >= checkpointEvery + steps / 10, samples[^1]);
        var last = samples[^1];
        Console.WriteLine();
        Console.WriteLine(
            "Resident memory of a worker process (docker-compose's environment) "
                + $"over one {steps}-step job (DCGAN 28x28x1, batch 64, a checkpoint every {checkpointEvery} steps): "
                + $"{samples[0].MiB:F0} MiB at step {samples[0].Step}, "
                + $"{beforeCheckpoint.MiB:F0} at step {beforeCheckpoint.Step} (before the first checkpoint), "
                + $"at step {settled.Step} {settled.MiB:F0} MiB, "
                + $"at step {last.Step} {last.MiB:F0} MiB ({(last.MiB / settled.MiB - 1) * 100:+0.0;-0.0;0.0}%), "
                + $"peak {peak:F0} MiB."
        );
        // The path, a tenth of the job at a time: where it still grows, and that it stays flat after.
        var path = Enumerable
            .Range(1, 10)
            .Select(i => samples.LastOrDefault(s => s.Step <= steps * i / 10, samples[0]));
        Console.WriteLine($"By step: {string.Join(", ", path.Select(s => $"{s.Step} {s.MiB:F0}"))} MiB.");
    }
}
