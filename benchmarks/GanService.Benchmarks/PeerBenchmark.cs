using System.Diagnostics;
using System.Text.Json;

namespace GanService.Benchmarks;

/// <summary>
/// The identical DCGAN in PyTorch (benchmarks/peer/dcgan.py, Debian's python3-torch), run alternately with the
/// TorchSharp loop (A B A B) in this process's run, for both training loops; the peer gets the same allocator
/// settings through the environment so that the comparison is of the frameworks, not of malloc. The peer runs in
/// both memory layouts (GanService's DCGAN runs channels-last), and the ratio is taken against its faster one.
/// </summary>
internal static class PeerBenchmark
{
    private const string Python = "/usr/bin/python3";

    public static void Run(int size, int channels, int steps)
    {
        var script = Path.Combine(Repository.Root, "benchmarks", "peer", "dcgan.py");
        if (!File.Exists(Python) || !Probe())
        {
            Console.WriteLine(
                "\n(peer skipped: Debian's python3-torch is not installed; apt-get install python3-torch "
                    + "libopenblas0-pthread)"
            );
            return;
        }
        if (!OptimizedBlas())
        {
            // On the reference BLAS PyTorch takes many times GanService's step: no peer at all (the figures are in
            // docs/benchmarks/log).
            Console.WriteLine(
                "\n(peer skipped: libblas.so.3 is the reference BLAS, on which PyTorch runs many times slower than it "
                    + "can; apt-get install libopenblas0-pthread)"
            );
            return;
        }
        Console.WriteLine();
        Console.WriteLine(
            $"Peer: the same DCGAN {size}x{size}x{channels}, batch 64, {steps} timed steps, 2 threads, runs "
                + "alternating A B A B."
        );
        Console.WriteLine();
        Console.WriteLine(
            "| loop | GanService (TorchSharp) ms/step | PyTorch peer, NCHW, ms/step | PyTorch peer, channels-last, "
                + "ms/step | faster peer / GanService |"
        );
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var shared in new[] { false, true })
        {
            var ours = new List<double>();
            var nchw = new List<double>();
            var channelsLast = new List<double>();
            string loop = shared ? "shared" : "course";
            for (int round = 0; round < 2; round++)
            {
                ours.Add(TrainingBenchmark.Bare(size, channels, steps, sharedFakes: shared).MedianMs);
                nchw.Add(RunPeer(script, size, channels, steps, loop, "nchw"));
                channelsLast.Add(RunPeer(script, size, channels, steps, loop, "channels-last"));
            }
            double a = Stopwatches.Median(ours),
                peer = Math.Min(Stopwatches.Median(nchw), Stopwatches.Median(channelsLast));
            Console.WriteLine(
                $"| {(shared ? "shared fakes" : "course loop")} | {Runs(ours)} | {Runs(nchw)} | {Runs(channelsLast)} |"
                    + $" {peer / a:F2}x |"
            );
        }
    }

    private static string Runs(List<double> ms) =>
        $"{string.Join(", ", ms.Select(v => v.ToString("F1")))} (median {Stopwatches.Median(ms):F1})";

    private static bool Probe()
    {
        using var process = Process.Start(
            new ProcessStartInfo(Python, "-c \"import torch\"") { RedirectStandardError = true }
        )!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }

    /// <summary>Debian's torch calls whichever libblas.so.3 the alternatives system points to.</summary>
    private static bool OptimizedBlas()
    {
        var blas = new FileInfo("/usr/lib/x86_64-linux-gnu/libblas.so.3");
        var target = blas.Exists ? blas.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? blas.FullName : "";
        return target.Contains("openblas", StringComparison.OrdinalIgnoreCase)
            || target.Contains("blis", StringComparison.OrdinalIgnoreCase)
            || target.Contains("mkl", StringComparison.OrdinalIgnoreCase);
    }

    private static double RunPeer(string script, int size, int channels, int steps, string loop, string layout)
    {
        var start = new ProcessStartInfo(
            Python,
            $"{script} --size {size} --channels {channels} --steps {steps} --loop {loop} --layout {layout} --threads 2"
        )
        {
            RedirectStandardOutput = true,
        };
        start.Environment["MALLOC_MMAP_THRESHOLD_"] = "33554432";
        start.Environment["MALLOC_TRIM_THRESHOLD_"] = "2147483647";
        // The peer's best setting here: torch's two threads, BLAS single-threaded inside them. Debian's torch with
        // the reference BLAS took 2.8 s a step, with OpenBLAS threads on top of torch's 510 ms, like this 161 ms.
        start.Environment["OPENBLAS_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"The peer failed ({process.ExitCode}): {output}");
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.GetProperty("ms_per_step").GetDouble();
    }
}

internal static class Repository
{
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "GanService.sln")))
                    return dir.FullName;
            throw new InvalidOperationException("Run the benchmarks from inside the repository.");
        }
    }
}
