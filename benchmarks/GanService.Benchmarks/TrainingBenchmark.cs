using System.Net.Http.Json;
using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Training;
using GanService.Jobs;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

internal static class TrainingBenchmark
{
    private const int Batch = 64,
        Warmup = 5;

    /// <summary>The recipes of the family table: each DCGAN variant at 28x28x1.</summary>
    public static IReadOnlyList<(string Name, Func<TrainingPlan, TrainingPlan> Apply)> Families { get; } =
    [
        ("DCGAN, BCE", p => p),
        ("conditional DCGAN, BCE", p =>
            p with
            {
                Model = p.Model with { Family = ModelRecipe.ConditionalDcgan, Classes = SyntheticBlobs.Classes },
            }
        ),
        ("DCGAN, LSGAN + EMA", p => p with { Loss = "lsgan", EmaDecay = 0.999 }),
        ("DCGAN, hinge + spectral norm", p =>
            p with
            {
                Loss = "hinge",
                Model = p.Model with { Normalization = "spectral" },
            }
        ),
        ("DCGAN, WGAN-GP (5 critic steps)", p =>
            p with
            {
                Loss = "wgan-gp",
                Model = p.Model with { Normalization = "none" },
                CriticSteps = 5,
                GradientPenalty = 10,
            }
        ),
        ("DCGAN, BCE + R1 + DiffAugment", p => p with { R1 = 10, Augment = "color,translation,cutout" }),
    ];

    /// <summary>An image-to-image family at 64x64x3, batch 4, on coloured blobs and their inversions.</summary>
    public static Result Translation(string family, int steps) =>
        Torch.OnOwnThread(() =>
        {
            var plan = new TrainingPlan(
                new ModelRecipe(family, 64, 3),
                new OptimizerRecipe(),
                2 + steps,
                4,
                ModelFamily.Find(family).Defaults.Loss,
                Seed: 1
            );
            using var blobs = SyntheticBlobs.Create(64, 3, seed: 1, count: 64);
            var a = blobs.PixelBytes();
            using var images = new ImageDataset("a", a, 64, 3, 64);
            using var targets = new ImageDataset("b", a.Select(v => (byte)(255 - v)).ToArray(), 64, 3, 64);
            var perStep = new List<double>();
            double wall = Stopwatches.Seconds(() =>
            {
                using var trainer = Trainers.Create(plan, new TrainingData(images, targets), CPU);
                trainer.Train(2);
                trainer.Train(steps, new Collect(perStep, 4));
            });
            return new Result($"{family}, 64x64x3, batch 4", Stopwatches.Median(perStep), wall, 4);
        });

    /// <summary>
    /// BigGAN, ProGAN or StyleGAN at the service's defaults for the family (32x32, width 16, batch 32, the paper's
    /// loss and regularisers), here with 3 channels. ProGAN is timed at its final stage: its early stages are cheaper.
    /// </summary>
    public static Result Modern(string family, int steps, int? r1Every = null) =>
        Torch.OnOwnThread(() =>
        {
            const int size = 32,
                batch = 32;
            var f = ModelFamily.Find(family);
            var d = f.Defaults;
            var model = new ModelRecipe(
                family,
                size,
                3,
                d.LatentSize,
                f.Conditional ? SyntheticBlobs.Classes : 0,
                d.FixedNormalization!
            );
            var loss = d.Loss;
            var optimizer = new OptimizerRecipe(d.GeneratorLearningRate, d.DiscriminatorLearningRate, d.Beta1, d.Beta2);
            var plan = new TrainingPlan(model, optimizer, Warmup + steps, batch, loss, 1)
            {
                R1 = d.R1,
                R1Every = r1Every ?? d.R1Every,
                EmaDecay = d.Ema,
                OrthogonalRegularization = d.OrthogonalRegularization,
                GradientPenalty = loss == "wgan-gp" ? 10 : 0,
                ImagesPerPhase = 1,
            };
            var perStep = new List<double>();
            long gParams = 0,
                dParams = 0;
            double wall = Stopwatches.Seconds(() =>
            {
                using var data = SyntheticBlobs.Create(size, 3, seed: 1, count: 1024);
                using var trainer = GanTrainer.Create(plan, data, CPU);
                (gParams, dParams) = (trainer.GeneratorParameters, trainer.DiscriminatorParameters);
                trainer.Train(Warmup);
                trainer.Train(steps, new Collect(perStep, batch));
            });
            return new Result(
                $"{family}, {size}x{size}x3, batch {batch}{(r1Every is { } n ? $", R1 every {n}" : "")}",
                Stopwatches.Median(perStep),
                wall,
                batch
            )
            {
                GeneratorParameters = gParams,
                DiscriminatorParameters = dParams,
            };
        });

    /// <summary>
    /// The library alone: dataset, trainer, warm-up, timed steps and one checkpoint, as a job does them.
    /// </summary>
    public static Result Bare(int size, int channels, int steps, string? family = null, bool sharedFakes = true) =>
        Torch.OnOwnThread(() =>
        {
            var plan = new TrainingPlan(
                new ModelRecipe(ImageSize: size, Channels: channels),
                new OptimizerRecipe(),
                Warmup + steps,
                Batch,
                Seed: 1
            )
            {
                SharedFakes = sharedFakes,
            };
            if (family is not null)
                plan = Families.Single(f => f.Name == family).Apply(plan);
            var perStep = new List<double>();
            long gParams = 0,
                dParams = 0;
            double wall = Stopwatches.Seconds(() =>
            {
                using var data = SyntheticBlobs.Create(size, channels, seed: 1);
                using var trainer = GanTrainer.Create(plan, data, CPU);
                (gParams, dParams) = (trainer.GeneratorParameters, trainer.DiscriminatorParameters);
                trainer.Train(Warmup);
                trainer.Train(steps, new Collect(perStep));
                trainer.Checkpoint();
                trainer.PreviewPng();
            });
            return new Result(
                family is null ? $"DCGAN {size}x{size}x{channels}" : $"{family}, {size}x{size}x{channels}",
                Stopwatches.Median(perStep),
                wall,
                Batch
            )
            {
                GeneratorParameters = gParams,
                DiscriminatorParameters = dParams,
                Flops = StepFlops.Dcgan(plan.Model, Batch, sharedFakes),
            };
        });

    /// <summary>
    /// The real host (API and worker in one process), as a benchmark starts it. A metric row every step (the default
    /// is every 10th) so that the service's median is taken over the same steps as the library's: a median of six
    /// sampled steps sat above one of sixty. More rows are more work for the service, not less.
    /// </summary>
    public static BenchmarkHost Host(string connectionString) => new(connectionString, "all", Training());

    /// <summary>
    /// A training host's settings in the benchmarks: every core for the job, a metric row every n steps.
    /// </summary>
    public static (string Key, string Value)[] Training(string metricsEvery = "1") =>
        [("Gan:TorchThreads", Environment.ProcessorCount.ToString()), ("Gan:MetricsEvery", metricsEvery)];

    /// <summary>
    /// The same run as deployed: the API in this process, the job on a freshly started worker process with
    /// docker-compose's worker environment (ReadyToRun when run.sh published one): the first job of a new worker.
    /// The API is settled first, as a long-running one is: a fresh one's JIT took 200 ms of CPU a second of the job.
    /// </summary>
    public static async Task<Result> OnWorker(string connectionString, int size, int channels, int steps)
    {
        await using var api = new BenchmarkHost(connectionString, "api");
        using var client = api.CreateClient();
        await Settle(client);
        await using var worker = WorkerProcess.Start(connectionString, Training());
        var workerBefore = CpuLedger.Take(worker.Id);
        var result = await Service(client, size, channels, steps);
        // The host that trained is the worker; this process (the API) is the row's neighbour on the same cores.
        return result with { Cpu = CpuLedger.Take(worker.Id).Since(workerBefore).ToList(), NeighbourCpu = result.Cpu };
    }

    /// <summary>
    /// Calls the API's read paths a job's polling takes, then waits (at most 20 s) until this process's tiered JIT
    /// has compiled nothing for a second.
    /// </summary>
    private static async Task Settle(HttpClient client)
    {
        for (int i = 0; i < 40; i++)
            (await client.GetAsync("/api/jobs?pageSize=5")).EnsureSuccessStatusCode();
        static double Jit() =>
            CpuLedger.Take().Since(CpuLedger.Empty).Where(c => c.Name.StartsWith(".NET Tiered")).Sum(c => c.Seconds);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        for (double before = Jit(); DateTime.UtcNow < deadline; )
        {
            await Task.Delay(1000);
            double now = Jit();
            if (now == before)
                break;
            before = now;
        }
    }

    /// <summary>The same run submitted over HTTP to a running host.</summary>
    public static async Task<Result> Service(HttpClient client, int size, int channels, int steps)
    {
        var cpuBefore = CpuLedger.Take();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var response = await client.PostAsJsonAsync(
            "/api/jobs",
            new
            {
                dataset = "synthetic",
                model = new
                {
                    family = "dcgan",
                    imageSize = size,
                    channels,
                },
                training = new { steps = Warmup + steps, batchSize = Batch },
                checkpointEvery = Warmup + steps,
                seed = 1,
                device = "cpu",
                evaluation = new { every = 0 }, // training alone; evaluations are measured on their own
            }
        );
        response.EnsureSuccessStatusCode();
        var job = (await response.Content.ReadFromJsonAsync<JobResponse>(BenchmarkHost.Json))!;
        while (job.Status is JobStatus.Queued or JobStatus.Running)
        {
            await Task.Delay(1000); // polling is load on a 2-core machine: keep it rare
            job = (await client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}", BenchmarkHost.Json))!;
        }
        if (job.Status != JobStatus.Succeeded)
            throw new InvalidOperationException($"Benchmark job ended {job.Status}: {job.Error}");
        var cpu = CpuLedger.Take().Since(cpuBefore).ToList();
        double ledgerSeconds = clock.Elapsed.TotalSeconds;
        var metrics = (
            await client.GetFromJsonAsync<List<MetricResponse>>($"/api/jobs/{job.Id}/metrics", BenchmarkHost.Json)
        )!;
        // One metrics row per step (Host): its speed is that of the step it ends.
        var perStep = metrics
            .Where(m => m.Step > Warmup)
            .OrderBy(m => m.Step)
            .Select(m => Batch * 1000 / m.ImagesPerSecond)
            .ToList();
        int quarter = Math.Max(1, perStep.Count / 4);
        return new Result(
            $"DCGAN {size}x{size}x{channels}",
            Stopwatches.Median(perStep),
            (job.FinishedAt!.Value - job.StartedAt!.Value).TotalSeconds,
            Batch
        )
        {
            Flops = StepFlops.Dcgan(new ModelRecipe(ImageSize: size, Channels: channels), Batch, true),
            Cpu = cpu,
            CpuSeconds = ledgerSeconds,
            FirstQuarterMs = Stopwatches.Median(perStep.Take(quarter)),
            LastQuarterMs = Stopwatches.Median(perStep.TakeLast(quarter)),
        };
    }

    /// <summary>Milliseconds per step from each report: the batch over the images per second.</summary>
    internal sealed class Collect(List<double> ms, int batch = Batch) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => ms.Add(batch * 1000 / value.ImagesPerSecond);
    }
}
