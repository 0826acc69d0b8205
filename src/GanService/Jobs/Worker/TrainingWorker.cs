using GanService.Gan.Runtime;
using GanService.Hosting;
using Hangfire;

namespace GanService.Jobs.Worker;

/// <summary>
/// The worker side of the queue: the Hangfire server that runs <see cref="TrainingRun"/> and what it needs.
/// </summary>
public static class TrainingWorker
{
    public static string[] ForWorker(GanOptions options) =>
        options.Queues is { Length: > 0 } configured ? configured
        : options.Device != "cpu" && TorchRuntime.CudaAvailable ? [JobQueues.Gpu, JobQueues.Cpu]
        : [JobQueues.Cpu];

    public static WebApplicationBuilder AddTrainingWorker(this WebApplicationBuilder builder, GanOptions gan)
    {
        builder.Services.AddSingleton<JobLedger>();
        builder.Services.AddTransient<TrainingRun>();
        // On API hosts too: a job stranded by a dying API process needs no worker to be found.
        builder.Services.AddSingleton<JobReconciler>();
        builder.Services.AddHostedService(services => services.GetRequiredService<JobReconciler>());
        if (gan.RunsWorker)
        {
            var shutdown = TimeSpan.FromSeconds(30);
            builder.Services.AddHangfireServer(server =>
            {
                server.Queues = ForWorker(gan);
                server.WorkerCount = gan.WorkerCount;
                server.ServerName = ServerName;
                server.ShutdownTimeout = shutdown;
            });
            // The host must wait longer than Hangfire, or a graceful stop could cut off the final checkpoint.
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdown + TimeSpan.FromSeconds(15));
        }
        return builder;
    }

    /// <summary>This process's Hangfire server name; Hangfire appends ":" and an id of its own to it.</summary>
    public static string ServerName { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";
}
