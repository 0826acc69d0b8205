using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using GanService.Gan.Data;
using GanService.Gan.Training;
using GanService.Jobs;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

/// <summary>
/// The deployed service's overhead measured in one time window instead of back to back: a job on a worker process and
/// the library loop in a process of its own (the same environment) train at the same time, but only one of them runs
/// at any moment: the other is stopped (SIGSTOP) and the two swap every slice. This machine's speed drifts by 10-30%
/// over tens of seconds, which the A B B A pairs turn into a spread of -20% to +28% around a 2% question; interleaved,
/// a drift lands on both sides alike. The step that spans a swap counts its pause: one in ~20 steps on each side, so
/// the medians move alike. Between the two turns, with both stopped, this process measures the matmul peak: each
/// side's fraction of the peak is then taken against peaks of the same seconds, not of the minutes around a row.
/// </summary>
internal static class InterleavedOverhead
{
    private const int Batch = 64,
        Warmup = 5;

    // OVERHEAD_STEPS: the job's length. With the product's metric row every 10th step, 400 steps give too few samples.
    private static readonly int Steps = int.TryParse(
        Environment.GetEnvironmentVariable("OVERHEAD_STEPS"),
        out var steps
    )
        ? steps
        : 400;
    private static readonly TimeSpan Slice = TimeSpan.FromSeconds(1);
    private static readonly string[] LibraryEnvironment = (
        Environment.GetEnvironmentVariable("OVERHEAD_LIBRARY_ENV") ?? ""
    ).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public static async Task Run(string connection, int channels, int rounds)
    {
        await using var api = new BenchmarkHost(connection, "api");
        using var client = api.CreateClient();
        var metricsEvery = Environment.GetEnvironmentVariable("OVERHEAD_METRICS_EVERY") ?? "1";
        await using var worker = WorkerProcess.Start(connection, TrainingBenchmark.Training(metricsEvery));
        await TrainingBenchmark.Service(client, 28, channels, 20); // warms the worker up
        Console.WriteLine();
        var build = Environment.GetEnvironmentVariable("GANSERVICE_BENCH_WORKER") is { Length: > 0 }
            ? "published ReadyToRun"
            : "this build";
        var libraryAlso =
            LibraryEnvironment.Length > 0 ? $", the library side also with {string.Join(" ", LibraryEnvironment)}" : "";
        Console.WriteLine(
            $"Overhead, interleaved: a job on a worker process ({build}, a metric row every {metricsEvery} steps) "
                + $"and the library loop in a process of its own take turns of {Slice.TotalSeconds:F0} s "
                + $"(the other stopped), both with docker-compose's worker environment{libraryAlso}."
        );
        Console.WriteLine();
        Console.WriteLine(
            $"| round (DCGAN 28x28x{channels}, a {Steps}-step job) | library ms/step (steps) | job in service ms/step "
                + "(steps) | service vs library | matmul peak between turns, GFLOP/s (turns) | library of peak | "
                + "service of peak | CPU ms per s of the worker's turns: training / thread pool / JIT / PostgreSQL / "
                + "rest of the worker |"
        );
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---|");
        double flops = StepFlops.Dcgan(new ModelRecipe(ImageSize: 28, Channels: channels), Batch, sharedForward: true);
        double OfPeak(List<double> ms, List<double> peaks) =>
            flops / (Stopwatches.Median(ms) / 1000) / 1e9 / Stopwatches.Median(peaks);
        var serviceOfPeak = new List<double>();
        var all = new Dictionary<string, double>();
        double allTurns = 0;
        var ratios = new List<double>();
        for (int round = 1; round <= rounds; round++)
        {
            var (library, service, peaks, cpu, turns) = await Round(client, worker.Id, channels);
            double ratio = Stopwatches.Median(service) / Stopwatches.Median(library) - 1;
            ratios.Add(ratio);
            string Cpu(params string[] prefixes) =>
                (cpu.Where(c => prefixes.Any(c.Name.StartsWith)).Sum(c => c.Seconds) * 1000 / turns).ToString("F0");
            string rest = (
                cpu.Where(c => !new[] { "training", ".NET TP", ".NET Tiered", "postgres" }.Any(c.Name.StartsWith))
                    .Sum(c => c.Seconds)
                * 1000
                / turns
            ).ToString("F0");
            serviceOfPeak.Add(OfPeak(service, peaks));
            Console.WriteLine(
                $"| {round} | {Stopwatches.Median(library):F1} ({library.Count}) | {Stopwatches.Median(service):F1} "
                    + $"({service.Count}) | {ratio * 100:+0.0;-0.0;0.0}% | {Stopwatches.Median(peaks):F0} "
                    + $"({peaks.Count}) | {OfPeak(library, peaks):P0} | {OfPeak(service, peaks):P0} | "
                    + $"{Cpu("training")} / {Cpu(".NET TP")} / {Cpu(".NET Tiered")} / {Cpu("postgres")} / {rest} |"
            );
            foreach (var (name, seconds) in cpu)
                all[name] = all.GetValueOrDefault(name) + seconds;
            allTurns += turns;
        }
        Console.WriteLine(
            $"| median of {rounds} rounds | | | {Stopwatches.Median(ratios) * 100:+0.0;-0.0;0.0}% "
                + $"({ratios.Min() * 100:+0.0;-0.0;0.0}% to {ratios.Max() * 100:+0.0;-0.0;0.0}%) | | | "
                + $"{Stopwatches.Median(serviceOfPeak):P0} ({serviceOfPeak.Min():P0} to {serviceOfPeak.Max():P0}) | |"
        );
        Console.WriteLine();
        Console.WriteLine(
            "| worker thread (by name) or PostgreSQL, over all rounds | CPU ms per s of the worker's turns |"
        );
        Console.WriteLine("|---|---:|");
        foreach (var (name, seconds) in all.OrderByDescending(kv => kv.Value).Take(12))
            Console.WriteLine($"| {name} | {seconds * 1000 / allTurns:F1} |");
    }

    private static async Task<(
        List<double> Library,
        List<double> Service,
        List<double> Peaks,
        List<(string Name, double Seconds)> Cpu,
        double Turns
    )> Round(HttpClient client, int worker, int channels)
    {
        var start = new ProcessStartInfo(
            "dotnet",
            [
                Path.Combine(AppContext.BaseDirectory, "GanService.Benchmarks.dll"),
                "library-turns",
                "28",
                channels.ToString(),
            ]
        )
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
        };
        WorkerProcess.UseWorkerEnvironment(start);
        // OVERHEAD_LIBRARY_ENV: settings for the library side only ("NAME=value ..."), to measure one against the
        // worker's in the same seconds, e.g. "GOMP_SPINCOUNT=300000".
        foreach (var pair in LibraryEnvironment)
            start.Environment[pair.Split('=', 2)[0]] = pair.Split('=', 2)[1];
        using var library = Process.Start(start)!;
        var libraryMs = new List<double>();
        var ready = new TaskCompletionSource();
        var reader = Task.Run(async () =>
        {
            while (await library.StandardOutput.ReadLineAsync() is { } line)
                if (line == "ready")
                    ready.TrySetResult();
                else if (double.TryParse(line, CultureInfo.InvariantCulture, out var ms))
                    lock (libraryMs)
                        libraryMs.Add(ms);
        });
        var workerTurns = TimeSpan.Zero;
        var peaks = new List<double>();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromMinutes(2));
            Signal(library.Id, Stop);
            var cpuBefore = CpuLedger.Take(worker);
            var response = await client.PostAsJsonAsync(
                "/api/jobs",
                new
                {
                    dataset = "synthetic",
                    model = new
                    {
                        family = "dcgan",
                        imageSize = 28,
                        channels,
                    },
                    training = new { steps = Warmup + Steps, batchSize = Batch },
                    checkpointEvery = Warmup + Steps,
                    seed = 1,
                    device = "cpu",
                    evaluation = new { every = 0 }, // training alone; evaluations are measured on their own
                }
            );
            response.EnsureSuccessStatusCode();
            var job = (await response.Content.ReadFromJsonAsync<JobResponse>(BenchmarkHost.Json))!;
            while (job.Status is JobStatus.Queued or JobStatus.Running && job.Step < Warmup)
            {
                await Task.Delay(100);
                job = (await client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}", BenchmarkHost.Json))!;
            }
            // Steps written after this instant plus one progress interval were all trained in turns.
            var interleavedFrom = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1.5);
            await library.StandardInput.WriteLineAsync("go");
            while (job.Status is JobStatus.Queued or JobStatus.Running)
            {
                Signal(worker, Stop);
                Signal(library.Id, Continue);
                await Task.Delay(Slice);
                Signal(library.Id, Stop);
                peaks.Add(Peak.MatmulTurn());
                Signal(worker, Continue);
                var turn = Stopwatch.StartNew();
                await Task.Delay(Slice);
                workerTurns += turn.Elapsed;
                job = (await client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}", BenchmarkHost.Json))!;
            }
            if (job.Status != JobStatus.Succeeded)
                throw new InvalidOperationException($"Benchmark job ended {job.Status}: {job.Error}");
            var cpu = CpuLedger.Take(worker).Since(cpuBefore).ToList();
            var metrics = (
                await client.GetFromJsonAsync<List<MetricResponse>>($"/api/jobs/{job.Id}/metrics", BenchmarkHost.Json)
            )!;
            var serviceMs = metrics
                .Where(m => m.Step > Warmup && m.RecordedAt > interleavedFrom)
                .Select(m => Batch * 1000 / m.ImagesPerSecond)
                .ToList();
            lock (libraryMs)
                return ([.. libraryMs], serviceMs, peaks, cpu, workerTurns.TotalSeconds);
        }
        finally
        {
            Signal(worker, Continue);
            library.Kill();
            await library.WaitForExitAsync();
            await reader;
        }
    }

    /// <summary>
    /// The library side (<c>library-turns SIZE CHANNELS</c>): warms up, says "ready", waits for a line,
    /// then prints each step's ms until killed.
    /// </summary>
    public static void LibraryTurns(int size, int channels) =>
        Torch.OnOwnThread(() =>
        {
            var plan = new TrainingPlan(
                new ModelRecipe(ImageSize: size, Channels: channels),
                new OptimizerRecipe(),
                1_000_000,
                Batch,
                Seed: 1
            );
            using var data = SyntheticBlobs.Create(size, channels, seed: 1);
            using var trainer = GanTrainer.Create(plan, data, CPU);
            trainer.Train(Warmup);
            Console.WriteLine("ready");
            Console.In.ReadLine();
            trainer.Train(plan.Steps - Warmup, new Print());
        });

    private sealed class Print : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) =>
            Console.WriteLine((Batch * 1000 / value.ImagesPerSecond).ToString("R", CultureInfo.InvariantCulture));
    }

    private const int Stop = 19,
        Continue = 18; // SIGSTOP, SIGCONT on Linux

    private static void Signal(int process, int signal)
    {
        if (kill(process, signal) != 0)
            throw new InvalidOperationException(
                $"kill({process}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}"
            );
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
