using System.Diagnostics;
using GanService.Gan.Cpu;
using GanService.Gan.Models;
using GanService.Gan.Runtime;
using GanService.Gan.Training;

namespace GanService.Benchmarks
{
    internal static class Entry
    {
        private static string? SharedData()
        {
            for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "..", "shared", "data")))
                    return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
            return null;
        }

        public static async Task Main(string[] args)
        {
            // Training throughput of the course DCGAN: the bare library loop, and the same run as a job inside the
            // service. Usage (the service part starts a private PostgreSQL):
            //   benchmarks/run.sh [steps] [28x1 28x3 64x3 | data | families | layers | overhead | sampling | peer
            //                     | queue | memory | contention
            //                     | evaluation | events | export] [--json FILE]
            //   benchmarks/run.sh ab ROUNDS STEPS SWITCH [28x3]
            //     (one of GanService's kernels against libtorch's path, see AbBenchmark)
            if (args is ["load", var url, var clients, var seconds])
            {
                await ContentionBenchmark.LoadProcess(
                    url,
                    int.Parse(clients),
                    TimeSpan.FromSeconds(int.Parse(seconds))
                );
                return;
            }
            var (tuned, spin) = TorchProcess.Configure(); // as the host does
            Torch.SingleThreadedByDefault();
            if (args is ["library-turns", var turnsSize, var turnsChannels]) // InterleavedOverhead's library side
            {
                InterleavedOverhead.LibraryTurns(int.Parse(turnsSize), int.Parse(turnsChannels));
                return;
            }
            if (args is ["export-one", var bundlePath]) // ExportBenchmark's exporting process
            {
                ExportBenchmark.One(bundlePath);
                return;
            }
            if (args is ["ab", .. var abArgs])
            {
                Environment.ExitCode = AbBenchmark.Run(abArgs);
                return;
            }
            var report = JsonReport.Start(args);
            var jsonPath = JsonReport.PathFrom(args);
            if (jsonPath is not null)
                args = args.Where((a, i) => a != "--json" && (i == 0 || args[i - 1] != "--json")).ToArray();
            int steps = args.Length > 0 ? int.Parse(args[0]) : 60;
            var connection = Environment.GetEnvironmentVariable("GANSERVICE_BENCH_POSTGRES");
            // Fast paths this whole run takes libtorch's way instead, by the names of FastPaths.Off: e.g.
            // "output,input,adam,batchnorm" runs G's output layer, D's first layer's input gradient, the Adam update
            // and G's batch norm + LeakyReLU in libtorch; "threadpool" runs the kernels' parts on .NET's thread pool.
            var libtorch = (Environment.GetEnvironmentVariable("GAN_BENCH_LIBTORCH") ?? "").Split(',');
            var paths = FastPaths.Default = FastPaths.Default.Without(libtorch.Where(name => name.Length > 0));
            string Path(bool on) =>
                !on ? "libtorch"
                : NarrowOutputKernel.Supported ? "GanService kernel"
                : "libtorch (no AVX-512)";

            Console.WriteLine($"# GanService training benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            Console.WriteLine(
                $"Machine: {Environment.ProcessorCount} cores, {Machine.Cpu()}, "
                    + $"{Machine.MemoryGiB():F0} GiB, {Environment.OSVersion}, .NET {Environment.Version}, "
                    + $"torch threads {Environment.ProcessorCount}, "
                    + $"glibc mallopt tuning {(tuned ? "on" : "off")}, "
                    + $"MALLOC_ARENA_MAX {Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") ?? "unset"}, "
                    + $"MALLOC_MMAP_MAX_ {Environment.GetEnvironmentVariable("MALLOC_MMAP_MAX_") ?? "unset"}, "
                    + $"GOMP_SPINCOUNT {(spin.Length > 0 ? spin : "default")}, DCGAN G output layer "
                    + $"{Path(paths.Output)}, "
                    + $"D input gradient {Path(paths.Input)}, "
                    + $"Adam update {(paths.Adam ? "GanService, one pass" : "libtorch")}, "
                    + $"G batch norm + LeakyReLU {(paths.BatchNorm ? "GanService, fused" : "libtorch")}, "
                    + $"kernel threads {(OpenMpTeam.Available ? "OpenMP team" : "thread pool")}, "
                    + $"oneDNN convolutions {OneDnnCheck.Ensure()}"
            );
            double matmul = Peak.MatmulGflops(),
                convolution = Peak.ConvolutionGflops();
            Console.WriteLine($"Batch 64, {steps} timed steps after 5 warm-up steps; ms/step is the median step.");
            Console.WriteLine(
                $"Peak in this run: fp32 matmul 2048x2048 {matmul:F0} GFLOP/s; the DCGAN's 64->64 4x4 stride-2 "
                    + $"transposed convolution {convolution:F0} GFLOP/s."
            );
            Console.WriteLine();
            Console.WriteLine(
                "| run | model | ms/step (median) | images/s | GFLOP/step | GFLOP/s | matmul peak around it, GFLOP/s |"
                    + " of that peak | wall s (whole run) | vs reference |"
            );
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            // Optional models after the step count, e.g. "28x1 64x3"; default: all three of the course.
            // "data" alone runs only the import and loader measurements.
            var models =
                args.Length > 1
                    ? args.Skip(1)
                        .Where(a => System.Text.RegularExpressions.Regex.IsMatch(a, @"^\d+x\d+$"))
                        .Select(a => a.Split('x'))
                        .Select(p => (int.Parse(p[0]), int.Parse(p[1])))
                        .ToArray()
                    : new[] { (28, 1), (28, 3), (64, 3) };
            var serviceRows = new List<(string Run, Result Result)>();
            foreach (var (size, channels) in models)
            {
                // The course's loop (a second G forward for the G update) against the shared-fakes loop, back to back.
                var (course, coursePeak) = await Peak.Around(() =>
                    Task.FromResult(TrainingBenchmark.Bare(size, channels, steps, sharedFakes: false))
                );
                Console.WriteLine(course.Row("library, course loop", "", coursePeak));
                var (bare, barePeak) = await Peak.Around(() =>
                    Task.FromResult(TrainingBenchmark.Bare(size, channels, steps))
                );
                Console.WriteLine(
                    bare.Row(
                        "library, shared fakes",
                        $"{(course.MedianMs / bare.MedianMs - 1) * 100:+0.0;-0.0;0.0}% faster than the course loop",
                        barePeak
                    )
                );
                if (connection is not null)
                {
                    void ServiceRow(string run, (Result Result, double Peak) measured)
                    {
                        Console.WriteLine(measured.Result.Row(run, Versus(measured.Result, bare), measured.Peak));
                        serviceRows.Add((run, measured.Result));
                    }
                    // The first job of a freshly started host (API and worker in this process; the host starts inside
                    // the peaks around the row), then its second: a running service. The host stops before the next
                    // row, whose job must go to the worker process.
                    await using (var host = TrainingBenchmark.Host(connection))
                    {
                        HttpClient? client = null;
                        ServiceRow(
                            "job in service, in this process",
                            await Peak.Around(() =>
                                TrainingBenchmark.Service(client = host.CreateClient(), size, channels, steps)
                            )
                        );
                        ServiceRow(
                            "its second job (a running service)",
                            await Peak.Around(() => TrainingBenchmark.Service(client!, size, channels, steps))
                        );
                        client!.Dispose();
                    }
                    ServiceRow(
                        "job on a worker process",
                        await Peak.Around(() => TrainingBenchmark.OnWorker(connection, size, channels, steps))
                    );
                }
            }
            if (serviceRows.Count > 0 && Environment.GetEnvironmentVariable("MALLOC_MMAP_MAX_") is null)
                Console.WriteLine(
                    "\nThe worker-process rows run with docker-compose's worker environment (one malloc arena, no "
                        + "mmap, no Dynamic PGO); the rows in this process, which also renders, without it. At 64x64 "
                        + "it keeps the 67 MB activations out of fresh mappings, which has measured 0-28% of a step "
                        + "there (docs/benchmarks.md)."
                );
            ServiceRows(serviceRows);
            if (args.Contains("layers"))
                Torch.OnOwnThread(() => LayerBenchmark.Run(3, matmul));
            if (args.Contains("overhead") && connection is not null)
            {
                if (Environment.GetEnvironmentVariable("OVERHEAD_PAIRS") is not "0")
                    await OverheadBenchmark.Run(
                        connection,
                        3,
                        steps,
                        int.TryParse(Environment.GetEnvironmentVariable("OVERHEAD_PAIRS"), out var p) ? p : 6
                    );
                await InterleavedOverhead.Run(
                    connection,
                    3,
                    int.TryParse(Environment.GetEnvironmentVariable("OVERHEAD_ROUNDS"), out var r) ? r : 3
                );
            }
            if (args.Contains("memory"))
            {
                Console.WriteLine();
                Console.WriteLine("| checkpoint | size | save ms (median of 5) | load ms |");
                Console.WriteLine("|---|---:|---:|---:|");
                foreach (var (size, channels) in new[] { (28, 1), (28, 3), (64, 3) })
                    Torch.OnOwnThread(() => MemoryBenchmark.Checkpoints(size, channels));
                int rssSteps = int.TryParse(Environment.GetEnvironmentVariable("RSS_STEPS"), out var n) ? n : 5000;
                if (connection is not null)
                    await MemoryBenchmark.WorkerRss(connection, rssSteps);
            }
            if (args.Contains("peer"))
                PeerBenchmark.Run(28, 3, steps);
            if (args.Contains("contention") && connection is not null)
                await ContentionBenchmark.Contention(connection, TimeSpan.FromSeconds(15));
            if (args.Contains("queue") && connection is not null)
                await QueueBenchmark.Run(connection, 100);
            if (args.Contains("sampling") && connection is not null)
                await SamplingBenchmark.Run(connection, TimeSpan.FromSeconds(5));
            if (args.Contains("events") && connection is not null)
                await EventsBenchmark.Run(connection, idleStreams: 200, writes: 200);
            if (args.Contains("evaluation"))
                Torch.OnOwnThread(EvaluationBenchmark.Run);
            if (args.Contains("export"))
                ExportBenchmark.Run();
            if (args.Contains("families"))
                FamiliesBenchmark.Run(steps);
            // A freshly started host's first job shares the cores with the host's start (its JIT above all): what
            // else the cores did during each service row, and the early steps against the late ones.
            static void ServiceRows(List<(string Run, Result Result)> rows)
            {
                if (rows.Count == 0)
                    return;
                Console.WriteLine();
                Console.WriteLine(
                    "| service row | model | first quarter of the timed steps, median ms | last quarter, median ms | "
                        + "host's CPU ms per s: training / render / thread pool / JIT / PostgreSQL / rest | the API "
                        + "process beside it, same columns |"
                );
                Console.WriteLine("|---|---|---:|---:|---|---|");
                foreach (var (run, r) in rows)
                {
                    var neighbour =
                        r.NeighbourCpu.Count > 0 ? CpuLedger.Split(r.NeighbourCpu, r.CpuSeconds) : "(the same process)";
                    Console.WriteLine(
                        $"| {run} | {r.Model} | {r.FirstQuarterMs:F1} | {r.LastQuarterMs:F1} | "
                            + $"{CpuLedger.Split(r.Cpu, r.CpuSeconds)} | {neighbour} |"
                    );
                }
            }
            static string Versus(Result service, Result bare) =>
                $"{(service.MedianMs / bare.MedianMs - 1) * 100:+0.0;-0.0;0.0}% (step), "
                + $"{(service.WallSeconds / bare.WallSeconds - 1) * 100:+0.0;-0.0;0.0}% (wall)";
            var routed = Convolutions.Routed;
            if (routed.Count > 0)
                Console.WriteLine(
                    $"\nConvolutions on libtorch's reference kernel (oneDNN wrong on this CPU): {routed.Count} "
                        + $"geometries, for example {routed[0]}."
                );
            if (connection is null)
                Console.WriteLine(
                    "\n(service rows skipped: GANSERVICE_BENCH_POSTGRES is not set; run benchmarks/run.sh)"
                );
            if (args.Length <= 1 || args.Contains("data"))
                Torch.OnOwnThread(() => DataBenchmark.Run(SharedData()));
            if (report is not null && jsonPath is not null)
                report.Save(jsonPath);
        }
    }
}
