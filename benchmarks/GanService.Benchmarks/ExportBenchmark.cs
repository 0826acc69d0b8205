using System.Diagnostics;
using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Export;
using GanService.Gan.Families;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

/// <summary>
/// Exports of the largest generators the checkpoint budget accepts: per modern family at 64x64x3 with its own
/// defaults (EMA where it keeps one), the widest recipe whose bundle <see cref="BundleSize.Estimate"/> keeps under
/// the 1 GB default of <c>Gan:MaxCheckpointBytes</c>. Each is exported by a fresh process (<c>export-one BUNDLE</c>)
/// that reads the bundle from a file through a stream, as the service reads it from PostgreSQL, and writes the zip
/// to a file; the peak is that process's VmHWM above its resident size just before the export.
/// </summary>
internal static class ExportBenchmark
{
    private const long Budget = 1_000_000_000;

    public static void Run()
    {
        Console.WriteLine();
        Console.WriteLine(
            "| export, 64x64x3 at the widest width under 1 GB | width | bundle | zip | export s | "
                + "peak RSS above the exporting process before it |"
        );
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var family in new[] { ModelRecipe.BigGan, ModelRecipe.ProGan, ModelRecipe.StyleGan })
        {
            var plan = Widest(family);
            var bundle = Path.GetTempFileName();
            try
            {
                Torch.OnOwnThread(() =>
                {
                    using var data = SyntheticBlobs.Create(64, 3, seed: 1, count: 64);
                    using var trainer = Trainers.Create(plan, new TrainingData(data), CPU);
                    File.WriteAllBytes(bundle, trainer.Checkpoint());
                });
                var start = new ProcessStartInfo(
                    "dotnet",
                    [Path.Combine(AppContext.BaseDirectory, "GanService.Benchmarks.dll"), "export-one", bundle]
                )
                {
                    RedirectStandardOutput = true,
                };
                using var child = Process.Start(start)!;
                var measured = child.StandardOutput.ReadToEnd().Trim();
                child.WaitForExit();
                Console.WriteLine(
                    $"| {family}{(plan.EmaDecay > 0 ? " (with EMA)" : "")} | {plan.Model.Width} | "
                        + $"{new FileInfo(bundle).Length / 1e6:F0} MB | {measured} |"
                );
            }
            finally
            {
                File.Delete(bundle);
            }
        }
    }

    /// <summary>The exporting process: prints "zip MB | seconds | peak MB" for the bundle at <paramref name="path"/>.
    /// </summary>
    public static void One(string path) =>
        Torch.OnOwnThread(() =>
        {
            var zip = Path.GetTempFileName();
            try
            {
                long before = Status("VmRSS");
                File.WriteAllText("/proc/self/clear_refs", "5"); // VmHWM := VmRSS
                var clock = Stopwatch.StartNew();
                using (var bundle = File.OpenRead(path))
                using (var reader = CheckpointBundle.Open(bundle))
                using (var file = File.Create(zip))
                    GeneratorExport.Write(reader, file);
                double seconds = clock.Elapsed.TotalSeconds;
                long peak = Status("VmHWM");
                Console.WriteLine(
                    $"{new FileInfo(zip).Length / 1e6:F0} MB | {seconds:F1} | {(peak - before) / 1e6:F0} MB"
                );
            }
            finally
            {
                File.Delete(zip);
            }
        });

    /// <summary>The family's default plan at the widest width (a multiple of 8) whose bundle fits the budget.</summary>
    private static TrainingPlan Widest(string family)
    {
        var kind = ModelFamily.Find(family);
        var defaults = kind.Defaults;
        var model = new ModelRecipe(
            family,
            64,
            3,
            defaults.LatentSize,
            Classes: kind.Conditional ? SyntheticBlobs.Classes : 0,
            Normalization: defaults.FixedNormalization ?? ModelRecipe.BatchNorm
        );
        var plan = new TrainingPlan(model, new OptimizerRecipe(), 10, 8, Seed: 1) { EmaDecay = defaults.Ema };
        for (int width = FamilyFields.MaxWidth; width >= 8; width -= 8)
        {
            var widest = plan with { Model = model with { Width = width } };
            if (BundleSize.Estimate(widest) <= Budget)
                return widest;
        }
        throw new InvalidOperationException($"No {family} recipe fits {Budget} bytes.");
    }

    /// <summary>A size in bytes from /proc/self/status (given there in kB).</summary>
    private static long Status(string field) =>
        long.Parse(
            File.ReadLines("/proc/self/status")
                .First(line => line.StartsWith(field + ":"))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]
        ) * 1024;
}
