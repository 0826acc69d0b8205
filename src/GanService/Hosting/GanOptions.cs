using System.ComponentModel.DataAnnotations;
using GanService.Gan.Runtime;

namespace GanService.Hosting;

/// <summary>The <c>Gan</c> configuration section.</summary>
public sealed class GanOptions
{
    public const string Section = "Gan";

    /// <summary><c>api</c> (HTTP only), <c>worker</c> (a Hangfire server) or <c>all</c> (both).</summary>
    [RegularExpression("^(api|worker|all)$")]
    public string Role { get; set; } = "all";

    /// <summary>Where built-in datasets (mnist, fashion-mnist, cifar10) are looked for, in this order.</summary>
    public string DataDirectory { get; set; } = "../shared/data";

    /// <summary>Extra directories searched after <see cref="DataDirectory"/>.</summary>
    public string[] ExtraDataDirectories { get; set; } = ["/usr/share/datasets"];

    /// <summary>Base URLs to download built-in datasets from when no data directory has them, by name.</summary>
    public Dictionary<string, string> DatasetMirrors { get; set; } = new();

    /// <summary>Where downloaded built-ins are kept (searched after the data directories).</summary>
    public string DownloadDirectory { get; set; } =
        Path.Combine(
            Environment.GetFolderPath(
                Environment.SpecialFolder.LocalApplicationData,
                Environment.SpecialFolderOption.Create
            ),
            "ganservice",
            "datasets"
        );

    /// <summary>The device this worker trains on: auto (CUDA when available), cpu or cuda.</summary>
    [RegularExpression("^(auto|cpu|cuda)$")]
    public string Device { get; set; } = "auto";

    /// <summary>Hangfire queues this worker takes jobs from; empty means by device (gpu and cpu, or cpu).</summary>
    public string[] Queues { get; set; } = [];

    /// <summary>Concurrent training jobs per worker process. One uses every core it is given.</summary>
    [Range(1, 64)]
    public int WorkerCount { get; set; } = 1;

    /// <summary>
    /// libtorch intra-op threads of each training job; 0 means all cores but one for the web host (at least one).
    /// </summary>
    [Range(0, 1024)]
    public int TorchThreads { get; set; }

    public int EffectiveTorchThreads =>
        TorchThreads > 0
            ? TorchThreads
            : Math.Max(1, Environment.ProcessorCount - (Environment.ProcessorCount > 2 ? 1 : 0));

    /// <summary>
    /// Scheduling class of the threads that render samples and translations: Idle (SCHED_IDLE, the default) lets
    /// training on the same host keep its cores under any sampling load while an idle host renders at full speed;
    /// Low is nice 10; Normal competes equally.
    /// </summary>
    public ThreadPriorityClass SamplingPriority { get; set; } = ThreadPriorityClass.Idle;

    /// <summary>A metrics row (and a progress update) every this many steps.</summary>
    [Range(1, 100_000)]
    public int MetricsEvery { get; set; } = 10;

    /// <summary>
    /// Progress and metric rows are written at most this often, in one transaction (the reports in between are
    /// batched).
    /// </summary>
    public TimeSpan ProgressWriteInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a running job checks whether it was cancelled.</summary>
    public TimeSpan CancellationPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Checkpoints one job may write (steps / checkpointEvery): each is a whole bundle kept in PostgreSQL, so a job's
    /// storage is bounded before it starts.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxCheckpointsPerJob { get; set; } = 1000;

    /// <summary>
    /// The largest checkpoint bundle a job may write, estimated at submit from its recipe (400 on the field that makes
    /// it large). A bundle is one bytea, which PostgreSQL caps at 1 GB with its header, so a higher value is refused at
    /// start (docs/reliability.md#budgets).
    /// </summary>
    [Range(1, PostgresValueLimit, ErrorMessage = PostgresValueLimitMessage)]
    public long MaxCheckpointBytes { get; set; } = 1_000_000_000;

    /// <summary>The largest value PostgreSQL stores in one field (a bytea): 1 GB less its 4-byte header.</summary>
    public const long PostgresValueLimit = (1L << 30) - 5;

    private const string PostgresValueLimitMessage =
        "Gan:MaxCheckpointBytes must be between {1} and {2}: a checkpoint is one PostgreSQL bytea, at most 1 GB.";

    /// <summary>How many attempts of a job may crash (their worker gone without a word) before it fails.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// How long a crashed worker's job stays invisible before another worker takes it. A live worker keeps sliding it
    /// forward, so a long job is never picked up twice while its worker lives.
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often idle workers look for jobs. New jobs wake them at once through LISTEN/NOTIFY, except that
    /// Hangfire.PostgreSql 1.21 starts listening anew, asynchronously, each time a worker begins to wait: a job
    /// submitted in that gap (typically just as the worker's previous job ends) waits for this poll. Measured: 1 in
    /// 100 queue-benchmark jobs waited the full 5 s the default used to be. A poll is one small query from an idle
    /// worker only (a training worker does not poll).
    /// </summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a running job waits out a PostgreSQL outage (training pauses at its next checkpoint) before giving up
    /// its attempt, and how long a starting host waits for PostgreSQL.
    /// </summary>
    public TimeSpan OutageTolerance { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often each host looks for jobs left Queued or Running with no live Hangfire job.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long such a job's row must have been quiet before it is requeued: longer than a submit takes between its
    /// insert and its enqueue, and than a running job goes between progress writes.
    /// </summary>
    public TimeSpan StrandedAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a <c>cuda</c> job may wait Queued while no worker takes the <c>gpu</c> queue before its answer carries
    /// a <c>warning</c> saying so.
    /// </summary>
    public TimeSpan GpuWaitWarning { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Generators kept loaded in memory for sampling.</summary>
    [Range(1, 1024)]
    public int GeneratorCacheSize { get; set; } = 8;

    /// <summary>
    /// Bytes of generator weights kept loaded for sampling; the least recently used go first beyond it, though the
    /// newest always stays (docs/reliability.md#budgets).
    /// </summary>
    [Range(1, 1L << 40)]
    public long GeneratorCacheBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Pixel values (images x side^2 x channels) one sampling request may produce; more is a 400 naming the field
    /// (docs/reliability.md#budgets).
    /// </summary>
    [Range(1, 1L << 40)]
    public long SamplingPixels { get; set; } = 256L * 128 * 128 * 3;

    /// <summary>
    /// The largest translate request body: one image, so far less than a dataset upload; a larger one is a 413
    /// naming <c>image</c> (docs/reliability.md#budgets).
    /// </summary>
    [Range(1024, 1L << 32)]
    public long TranslateMaxBytes { get; set; } = 16L << 20;

    /// <summary>Bytes of encoded seeded samples kept in memory (0 turns the cache off).</summary>
    [Range(0, 1L << 40)]
    public long PngCacheBytes { get; set; } = 64L << 20;

    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>Basic-auth credentials for /hangfire; without them the dashboard answers local requests only.</summary>
    public string? DashboardUser { get; set; }
    public string? DashboardPassword { get; set; }

    public bool ServesApi => Role is "api" or "all";
    public bool RunsWorker => Role is "worker" or "all";

    public IEnumerable<string> DataDirectories =>
        new[] { DataDirectory }
            .Concat(ExtraDataDirectories)
            .Append(DownloadDirectory)
            .Where(d => !string.IsNullOrWhiteSpace(d));
}
