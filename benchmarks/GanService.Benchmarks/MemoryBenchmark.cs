using System.Diagnostics;
using GanService.Gan.Data;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

/// <summary>
/// Checkpoint save and load times, and the resident memory of a long training run (it must stay flat: one dispose
/// scope per step, no growth from the loop, the batches or the allocator).
/// </summary>
internal static class MemoryBenchmark
{
    public static void Checkpoints(int size, int channels)
    {
        var plan = new TrainingPlan(new ModelRecipe(ImageSize: size, Channels: channels), new OptimizerRecipe(), 10, 64, Seed: 1);
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
            using (Trainers.Resume(bundle, new TrainingData(data, null), CPU)) load.Add(clock.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"| DCGAN {size}x{size}x{channels} | {bundle.Length / 1e6:F1} MB | {Stopwatches.Median(save):F1} | {Stopwatches.Median(load):F1} |");
    }

    public static void Rss(int steps)
    {
        var plan = new TrainingPlan(new ModelRecipe(ImageSize: 28, Channels: 1), new OptimizerRecipe(), steps, 64, Seed: 1);
        using var data = SyntheticBlobs.Create(28, 1, seed: 1);
        using var trainer = GanTrainer.Create(plan, data, CPU);
        var samples = new List<(long Step, double MiB)>();
        while (!trainer.Finished)
        {
            trainer.Train(Math.Max(1, steps / 50));
            samples.Add((trainer.Step, ResidentMiB()));
        }
        var settled = samples[samples.Count / 10]; // after warm-up: allocator pools and caches are full by then
        var last = samples[^1];
        var peak = samples.Max(s => s.MiB);
        Console.WriteLine();
        Console.WriteLine($"Resident memory over {steps} steps (DCGAN 28x28x1, batch 64, library loop): at step {settled.Step} {settled.MiB:F0} MiB, " +
                          $"at the end {last.MiB:F0} MiB ({(last.MiB / settled.MiB - 1) * 100:+0.0;-0.0;0.0}%), peak {peak:F0} MiB.");
    }

    private static double ResidentMiB() =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmRSS:"))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024).First();
}
