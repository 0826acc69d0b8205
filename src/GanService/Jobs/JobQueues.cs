using GanService.Hosting;
using GanService.Jobs.Worker;
using GanService.Persistence;
using Hangfire;
using Hangfire.PostgreSql;

namespace GanService.Jobs;

/// <summary>
/// Hangfire is the distributed queue. Jobs that need CUDA go to queue <c>gpu</c>, the rest to <c>cpu</c>; a worker
/// with a GPU takes both (gpu first), a CPU-only worker takes <c>cpu</c>.
/// </summary>
public static class JobQueues
{
    public const string Gpu = "gpu",
        Cpu = "cpu";

    public static string For(string device) => device == "cuda" ? Gpu : Cpu;

    public static WebApplicationBuilder AddJobQueue(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.PostgresConnectionString();
        var gan = builder.Configuration.GetSection(GanOptions.Section).Get<GanOptions>() ?? new GanOptions();
        builder.Services.AddScoped<JobRequestValidator>();
        builder.Services.AddSingleton<GpuWorkers>();
        var storage = new PostgreSqlStorageOptions
        {
            SchemaName = "hangfire",
            PrepareSchemaIfNecessary = true,
            // LISTEN/NOTIFY wakes an idle worker within tens of milliseconds instead of the 15 s default poll.
            EnableLongPolling = true,
            QueuePollInterval = gan.QueuePollInterval,
            // A crashed worker's job becomes visible again after this timeout; a live one keeps sliding it, so a long
            // training job is not picked up twice, and the lease fences off the rare case that is.
            InvisibilityTimeout = gan.InvisibilityTimeout,
            UseSlidingInvisibilityTimeout = true,
            // A worker killed inside a Hangfire state change leaves that job's state lock behind; the default 10 min
            // expiry stalled such a job for 10 min in the soak run (docs/reliability.md). Locks are held for
            // milliseconds here (no DisableConcurrentExecution, no recurring jobs), so 30 s is ample.
            DistributedLockTimeout = TimeSpan.FromSeconds(30),
        };
        builder.Services.AddHangfire(
            (services, config) =>
                config
                    .UseLogProvider(new HangfireLogging(services.GetRequiredService<ILoggerFactory>()))
                    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                    .UseSimpleAssemblyNameTypeSerializer()
                    .UseRecommendedSerializerSettings()
                    .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), storage)
        );
        builder.AddTrainingWorker(gan);
        return builder;
    }

    /// <summary>Puts a training job in its Hangfire queue; returns the Hangfire job's id.</summary>
    public static string EnqueueTraining(this IBackgroundJobClient hangfire, TrainingJob job) =>
        hangfire.EnqueueTraining(job.Id, job.Queue);

    public static string EnqueueTraining(this IBackgroundJobClient hangfire, Guid jobId, string? queue) =>
        hangfire.Enqueue<TrainingRun>(queue, j => j.Run(jobId, CancellationToken.None));
}
