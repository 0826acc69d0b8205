using System.Diagnostics;
using GanService.Evaluations;
using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Quality;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

/// <summary>
/// What scoring checkpoints costs beside training: the feature network's throughput at the default side, the
/// dataset's real statistics (once per dataset), and the scheduled evaluations of a default job against that job's
/// own training time. Synthetic images stand in for the datasets: the cost does not depend on what they show.
/// </summary>
internal static class EvaluationBenchmark
{
    private const int DefaultSteps = 1000,
        TimedSteps = 8;

    private static readonly (string Family, int Size, int Channels, string Data)[] Jobs =
    [
        (ModelRecipe.Dcgan, 28, 1, "MNIST-shaped"),
        (ModelRecipe.Dcgan, 32, 3, "CIFAR-10-shaped"),
        (ModelRecipe.Dcgan, 64, 3, "64x64 RGB"),
        (ModelRecipe.Pix2Pix, 64, 3, "64x64 pairs"),
    ];

    public static void Run()
    {
        using var network = FeatureNetwork.Load();
        Console.WriteLine();
        Console.WriteLine(
            $"| images | feature network | side | images/s (batch 32, after a warm-up batch) | CPU s per image |"
        );
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var (size, channels) in new[] { (28, 1), (32, 3), (64, 3) })
        {
            using var images = rand([128, channels, size, size]) * 2 - 1;
            network.Features(images[..32]).Dispose();
            var (seconds, cpu) = Timed(() => network.Features(images).Dispose());
            Console.WriteLine(
                $"| {size}x{size}x{channels} | {FeatureNetwork.Name} | {network.Side} | {128 / seconds:F1} | "
                    + $"{cpu / 128:F3} |"
            );
        }

        Console.WriteLine();
        Console.WriteLine(
            "| default job | samples | real statistics (1000 images, once per dataset) s | s per evaluation | "
                + "evaluations per job | job's training s (1000 steps) | evaluation's share of the job |"
        );
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var job in Jobs)
            Row(network, job);
    }

    private static void Row(FeatureNetwork network, (string Family, int Size, int Channels, string Data) job)
    {
        var family = ModelFamily.TryFind(job.Family)!;
        var model = new ModelRecipe(job.Family, job.Size, job.Channels);
        var plan = new TrainingPlan(model, new OptimizerRecipe(), DefaultSteps, family.Defaults.BatchSize, Seed: 1);
        using var images = SyntheticBlobs.Create(job.Size, job.Channels, seed: 1, count: 1000);
        using var targets = model.Translation
            ? SyntheticBlobs.Create(job.Size, job.Channels, seed: 2, count: 1000)
            : null;
        var data = new TrainingData(images, targets);
        using var trainer = Trainers.Create(plan, data, CPU);
        trainer.Train(2);
        var (trainSeconds, _) = Timed(() => trainer.Train(TimedSteps));
        double jobSeconds = trainSeconds / TimedSteps * DefaultSteps;
        using var checkpoint = CheckpointBundle.Open(trainer.Checkpoint());

        var (realSeconds, _) = Timed(() =>
            GeneratorEvaluator.RealStatistics(network, plan, data, count: new EvaluationOptions().RealSamples)
        );
        var real = GeneratorEvaluator.RealStatistics(network, plan, data, count: 200);
        int samples = EvaluationPlan.DefaultSamples(model);
        var (evalSeconds, _) = Timed(() => GeneratorEvaluator.Evaluate(network, checkpoint, data, real, samples));
        int every = EvaluationPlan.DefaultEvery(DefaultSteps, DefaultSteps / 10);
        var plannedAt = new EvaluationPlan(every, samples);
        int evaluations = Enumerable.Range(1, DefaultSteps).Count(s => plannedAt.Due(s, DefaultSteps));
        Console.WriteLine(
            $"| {job.Family} {job.Size}x{job.Size}x{job.Channels} ({job.Data}) | {samples} | {realSeconds:F1} | "
                + $"{evalSeconds:F1} | {evaluations} | {jobSeconds:F0} | "
                + $"{evaluations * evalSeconds / jobSeconds:P1} |"
        );
    }

    private static (double Seconds, double CpuSeconds) Timed(Action work)
    {
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        work();
        process.Refresh();
        return (clock.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu).TotalSeconds);
    }
}
