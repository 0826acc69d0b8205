using System.Diagnostics;

namespace GanService.Benchmarks;

internal static class Machine
{
    public static string Cpu() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim()
                ?? "unknown CPU"
            : "unknown CPU";

    public static double MemoryGiB() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
}

internal sealed record Result(string Model, double MedianMs, double WallSeconds, int BatchSize)
{
    public long GeneratorParameters { get; init; }
    public long DiscriminatorParameters { get; init; }
    public double Flops { get; init; }

    /// <summary>
    /// CPU seconds by thread name (and PostgreSQL's) of the host that ran a service job, largest first.
    /// </summary>
    public IReadOnlyList<(string Name, double Seconds)> Cpu { get; init; } = [];

    /// <summary>
    /// The same for the API process beside a worker process that trained (empty where one process did both).
    /// </summary>
    public IReadOnlyList<(string Name, double Seconds)> NeighbourCpu { get; init; } = [];

    /// <summary>The seconds over which <see cref="Cpu"/> was taken: submission to the last poll.</summary>
    public double CpuSeconds { get; init; }

    /// <summary>
    /// Median step of the first and of the last quarter of the timed steps: a young host's early steps.
    /// </summary>
    public double FirstQuarterMs { get; init; }
    public double LastQuarterMs { get; init; }

    public string Row(string run, string overhead, double peak)
    {
        double gflops = Flops / (MedianMs / 1000) / 1e9;
        return $"| {run} | {Model} | {MedianMs:F1} | {BatchSize * 1000 / MedianMs:F0} | {Flops / 1e9:F2} | "
            + $"{gflops:F0} | {peak:F0} | {gflops / peak:P0} | {WallSeconds:F1} | {overhead} |";
    }
}

internal static class Stopwatches
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    public static double Seconds(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }
}
