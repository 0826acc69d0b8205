using GanService.Checkpoints;
using GanService.Datasets;
using GanService.Gan.Checkpoints;
using GanService.Gan.Runtime;
using GanService.Gan.Training;
using GanService.Hosting;
using GanService.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Jobs;

/// <summary>
/// The Hangfire job that trains one <see cref="TrainingJob"/>. It receives an id, never an entity; it is safe to
/// run again (Hangfire promises at least once): a re-run resumes from the newest verified checkpoint, and a
/// finished job is never trained again.
/// </summary>
public sealed class TrainJob(
    IDbContextFactory<GanDbContext> contexts,
    ICheckpointStore checkpoints,
    DatasetCatalog datasets,
    IOptions<GanOptions> options,
    ILogger<TrainJob> logger)
{
    /// <summary>Hangfire's own retries are off: crashes re-run through the invisibility timeout and count in our table.</summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public void Run(Guid jobId, CancellationToken shutdown)
    {
        var job = Start(jobId);
        if (job is null) return;
        var spec = job.Spec();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        using var watcher = new CancellationWatcher(contexts, jobId, options.Value.CancellationPollInterval, cancel);
        try
        {
            var device = TorchRuntime.ResolveDevice(spec.Device);
            var data = datasets.Load(spec.Dataset, spec.Model.ImageSize, spec.Model.Channels, spec.Seed);
            var resumeFrom = checkpoints.LatestVerifiedAsync(jobId, CancellationToken.None).GetAwaiter().GetResult();
            using var trainer = resumeFrom is null
                ? Trainers.Create(spec.ToPlan(), data, device)
                : Trainers.Resume(resumeFrom.Bundle, data, device, resumeFrom.Sha256);
            if (resumeFrom is not null)
                logger.LogInformation("Job {JobId} resumes from its checkpoint at step {Step}.", jobId, resumeFrom.Step);
            Train(job, spec, trainer, resumeFrom?.Step ?? -1, cancel.Token);
            if (watcher.CancelRequested) Finish(jobId, JobStatus.Cancelled, null);
            else if (shutdown.IsCancellationRequested)
            {
                logger.LogInformation("Job {JobId} stopped for shutdown at step {Step}; it will resume there.", jobId, trainer.Step);
                Requeued(jobId);
                shutdown.ThrowIfCancellationRequested(); // Hangfire puts the job back in its queue
            }
            else Finish(jobId, JobStatus.Succeeded, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Job {JobId} failed.", jobId);
            Finish(jobId, JobStatus.Failed, e is TrainingDivergedException or DeviceUnavailableException or CorruptCheckpointException
                ? e.Message : $"{e.GetType().Name}: {e.Message}");
        }
    }

    private TrainingJob? Start(Guid jobId)
    {
        using var db = contexts.CreateDbContext();
        var job = db.Jobs.SingleOrDefault(j => j.Id == jobId);
        if (job is null || job.IsFinished) return null;
        if (job.CancelRequested)
        {
            job.Status = JobStatus.Cancelled;
            job.FinishedAt = DateTimeOffset.UtcNow;
        }
        else if (++job.Attempts > options.Value.MaxAttempts)
        {
            job.Status = JobStatus.Failed;
            job.Error = $"Gave up after {options.Value.MaxAttempts} attempts; the worker stopped before finishing each time.";
            job.FinishedAt = DateTimeOffset.UtcNow;
        }
        else
        {
            job.Status = JobStatus.Running;
            job.StartedAt ??= DateTimeOffset.UtcNow;
            job.Worker = $"{Environment.MachineName}:{Environment.ProcessId}";
        }
        job.UpdatedAt = DateTimeOffset.UtcNow;
        db.SaveChanges();
        return job.Status == JobStatus.Running ? job : null;
    }

    private void Train(TrainingJob job, JobSpec spec, Trainer trainer, long lastCheckpoint, CancellationToken token)
    {
        var progress = new LatestProgress();
        int metricsEvery = options.Value.MetricsEvery;
        while (!trainer.Finished && !token.IsCancellationRequested)
        {
            long nextCheckpoint = (trainer.Step / spec.CheckpointEvery + 1) * spec.CheckpointEvery;
            long nextMetric = (trainer.Step / metricsEvery + 1) * metricsEvery;
            int chunk = (int)(Math.Min(Math.Min(nextCheckpoint, nextMetric), spec.Steps) - trainer.Step);
            if (trainer.Train(chunk, progress, token) > 0 && progress.Latest is { } latest)
                Record(job.Id, latest);
            if (trainer.Step % spec.CheckpointEvery == 0 || trainer.Finished)
                lastCheckpoint = Save(job, trainer);
        }
        // Cancelled or shutting down: keep the work done since the last checkpoint.
        if (trainer.Step != lastCheckpoint) Save(job, trainer);
    }

    private long Save(TrainingJob job, Trainer trainer)
    {
        var bundle = trainer.Checkpoint();
        checkpoints.SaveAsync(job.Id, job.Attempts, trainer.Step, bundle, CheckpointBundle.Sha256(bundle), trainer.PreviewPng(),
            CancellationToken.None).GetAwaiter().GetResult();
        return trainer.Step;
    }

    private void Record(Guid jobId, TrainingProgress p)
    {
        using var db = contexts.CreateDbContext();
        var now = DateTimeOffset.UtcNow;
        db.Metrics.Where(m => m.JobId == jobId && m.Step == p.Step).ExecuteDelete(); // a re-run repeats steps
        db.Metrics.Add(new TrainingMetric
        {
            JobId = jobId, Step = p.Step, Epoch = p.Epoch, DiscriminatorLoss = p.DiscriminatorLoss, GeneratorLoss = p.GeneratorLoss,
            RealScore = p.RealScore, FakeScore = p.FakeScore, ImagesPerSecond = p.ImagesPerSecond, RecordedAt = now,
        });
        db.SaveChanges();
        db.Jobs.Where(j => j.Id == jobId).ExecuteUpdate(s => s
            .SetProperty(j => j.Step, p.Step)
            .SetProperty(j => j.DiscriminatorLoss, p.DiscriminatorLoss)
            .SetProperty(j => j.GeneratorLoss, p.GeneratorLoss)
            .SetProperty(j => j.RealScore, p.RealScore)
            .SetProperty(j => j.FakeScore, p.FakeScore)
            .SetProperty(j => j.ImagesPerSecond, p.ImagesPerSecond)
            .SetProperty(j => j.UpdatedAt, now));
    }

    private void Finish(Guid jobId, JobStatus status, string? error)
    {
        using var db = contexts.CreateDbContext();
        var now = DateTimeOffset.UtcNow;
        db.Jobs.Where(j => j.Id == jobId).ExecuteUpdate(s => s
            .SetProperty(j => j.Status, status)
            .SetProperty(j => j.Error, error)
            .SetProperty(j => j.FinishedAt, now)
            .SetProperty(j => j.UpdatedAt, now));
    }

    /// <summary>Shows the job as waiting again, not as running on a worker that is gone.</summary>
    private void Requeued(Guid jobId)
    {
        using var db = contexts.CreateDbContext();
        db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Running).ExecuteUpdate(s => s
            .SetProperty(j => j.Status, JobStatus.Queued)
            .SetProperty(j => j.Worker, (string?)null)
            .SetProperty(j => j.UpdatedAt, DateTimeOffset.UtcNow));
    }

    /// <summary>Keeps the newest report; training runs on this thread, so no locking is needed.</summary>
    private sealed class LatestProgress : IProgress<TrainingProgress>
    {
        public TrainingProgress? Latest { get; private set; }
        public void Report(TrainingProgress value) => Latest = value;
    }
}
