using System.Diagnostics;
using System.IO.Compression;
using GanService.Gan.Data;
using GanService.Gan.Data.Import;
using GanService.Gan.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

/// <summary>Import throughput, and how long training steps wait for their real batch.</summary>
internal static class DataBenchmark
{
    public static void Run(string? sharedData)
    {
        Console.WriteLine();
        Console.WriteLine("| data | what | items | seconds | items/s |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        var importer = new DatasetImporter(new ImportLimits { MaxItems = 100_000 });
        var mnist = sharedData is null ? null : Path.Combine(sharedData, "mnist");
        if (mnist is not null && Directory.Exists(mnist))
        {
            var clock = Stopwatch.StartNew();
            using var images = File.OpenRead(Path.Combine(mnist, "train-images-idx3-ubyte.gz"));
            using var labels = File.OpenRead(Path.Combine(mnist, "train-labels-idx1-ubyte.gz"));
            var result = importer.Import(UploadFormats.Idx, images, labels, new ImportOptions());
            Row(
                "MNIST train IDX (gzip)",
                "import, native 28x28",
                result.Dataset.Header.Count,
                clock.Elapsed.TotalSeconds
            );
        }
        var zip = PngZip(2000);
        var watch = Stopwatch.StartNew();
        var archive = importer.Import(
            UploadFormats.Archive,
            new MemoryStream(zip),
            null,
            new ImportOptions(ImageSize: 64)
        );
        Row(
            "zip of 2000 PNGs 48x40, 2 class folders",
            "decode, resize to 64x64 RGB",
            archive.Dataset.Header.Count,
            watch.Elapsed.TotalSeconds
        );

        // The loader's share of a step: MNIST-sized data (60,000 items), batch 64,
        // each batch built on the training thread.
        var pixels = new byte[60_000 * 28 * 28];
        new Random(1).NextBytes(pixels);
        using var data = new ImageDataset("noise", pixels, 60_000, 1, 28);
        var plan = new TrainingPlan(new ModelRecipe(), new OptimizerRecipe(), 65, 64, Seed: 1);
        using var trainer = GanTrainer.Create(plan, data, CPU);
        var waits = new List<(double Wait, double Step)>();
        trainer.Train(5);
        trainer.Train(60, new Collect(waits));
        double wait = waits.Average(w => w.Wait),
            step = waits.Average(w => w.Step);
        Console.WriteLine();
        Console.WriteLine(
            $"Data loader, MNIST-sized (60,000 x 28x28), batch 64, 60 steps: mean time to build the batch {wait:F3} ms "
                + $"of a {step:F1} ms step ({100 * wait / step:F2}%), max {waits.Max(w => w.Wait):F3} ms."
        );
    }

    private static void Row(string data, string what, int items, double seconds) =>
        Console.WriteLine($"| {data} | {what} | {items} | {seconds:F2} | {items / seconds:F0} |");

    private static byte[] PngZip(int count)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            var random = new Random(2);
            for (int i = 0; i < count; i++)
            {
                using var image = new Image<Rgb24>(
                    48,
                    40,
                    new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256))
                );
                using var entry = zip.CreateEntry($"{(i % 2 == 0 ? "a" : "b")}/{i:D5}.png").Open();
                image.SaveAsPng(entry);
            }
        }
        return output.ToArray();
    }

    private sealed class Collect(List<(double, double)> waits) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) =>
            waits.Add((value.DataWaitMilliseconds, 64 * 1000 / value.ImagesPerSecond));
    }
}
