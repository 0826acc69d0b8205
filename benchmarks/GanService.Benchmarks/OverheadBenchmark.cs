using System.Runtime;

namespace GanService.Benchmarks;

/// <summary>
/// The service's overhead over the bare library loop, resolved from this machine's drift by repetition: pairs of
/// runs (library, then the same run as a job in the service) in A B B A order, so that a slow or fast spell of the
/// machine lands on both sides equally often; the figure is the median of the per-pair ratios. The host is started
/// once and warmed by a short job first, so the pairs measure a running service (the first job after a start also
/// pays for the host's just-in-time compilation: the training table's "job in service" rows show that case).
/// </summary>
internal static class OverheadBenchmark
{
    public static async Task Run(string connection, int channels, int steps, int pairs)
    {
        Console.WriteLine();
        Console.WriteLine(
            $"| pair (DCGAN 28x28x{channels}, {steps} timed steps) | order | library ms/step | job in service ms/step "
                + "| service vs library | CPU ms per s of job: training / render / thread pool / JIT / PostgreSQL / "
                + "rest | methods JIT-compiled during the job (compile ms) |"
        );
        Console.WriteLine("|---|---|---:|---:|---:|---|---:|");
        await using var host = TrainingBenchmark.Host(connection);
        using var client = host.CreateClient();
        var warmup = await TrainingBenchmark.Service(client, 28, channels, 20);
        Console.WriteLine(
            $"| warm-up job (not counted) | | | {warmup.MedianMs:F1} | | "
                + $"{CpuLedger.Split(warmup.Cpu, warmup.WallSeconds)} | {JitInfo.GetCompiledMethodCount()} since the "
                + "process started |"
        );
        var ratios = new List<double>();
        var cpu = new Dictionary<string, double>();
        double wall = 0;
        for (int pair = 1; pair <= pairs; pair++)
        {
            bool libraryFirst = pair % 2 == 1;
            var library = libraryFirst ? TrainingBenchmark.Bare(28, channels, steps) : null;
            var (methods, compiling) = (JitInfo.GetCompiledMethodCount(), JitInfo.GetCompilationTime());
            var service = await TrainingBenchmark.Service(client, 28, channels, steps);
            (methods, compiling) = (
                JitInfo.GetCompiledMethodCount() - methods,
                JitInfo.GetCompilationTime() - compiling
            );
            library ??= TrainingBenchmark.Bare(28, channels, steps);
            double ratio = service.MedianMs / library.MedianMs - 1;
            ratios.Add(ratio);
            wall += service.WallSeconds;
            foreach (var (name, seconds) in service.Cpu)
                cpu[name] = cpu.GetValueOrDefault(name) + seconds;
            Console.WriteLine(
                $"| {pair} | {(libraryFirst ? "library, service" : "service, library")} | {library.MedianMs:F1} | "
                    + $"{service.MedianMs:F1} | {ratio * 100:+0.0;-0.0;0.0}% | "
                    + $"{CpuLedger.Split(service.Cpu, service.WallSeconds)} | {methods} "
                    + $"({compiling.TotalMilliseconds:F0}) |"
            );
        }
        var sorted = ratios.Order().ToArray();
        Console.WriteLine(
            $"| median of {pairs} pairs (range) | | | | {Stopwatches.Median(ratios) * 100:+0.0;-0.0;0.0}% "
                + $"({sorted[0] * 100:+0.0;-0.0;0.0}% to {sorted[^1] * 100:+0.0;-0.0;0.0}%) | | |"
        );

        Console.WriteLine();
        Console.WriteLine("| thread (by name) or process, while the service's jobs ran | CPU ms per second of job |");
        Console.WriteLine("|---|---:|");
        foreach (var (name, seconds) in cpu.OrderByDescending(kv => kv.Value).Take(12))
            Console.WriteLine($"| {name} | {seconds * 1000 / wall:F1} |");
    }
}
