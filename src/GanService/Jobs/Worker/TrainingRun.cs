using GanService.Checkpoints;
using GanService.Datasets;
using GanService.Evaluations;
using GanService.Gan.Checkpoints;
using GanService.Gan.Families;
using GanService.Gan.Runtime;
using GanService.Gan.Training;
using GanService.Hosting;
using GanService.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Jobs.Worker;

/// <summary>
/// The Hangfire job that trains one <see cref="TrainingJob"/>. It receives an id, never an entity, and is safe to run
/// again (Hangfire promises at least once): each run is a new attempt holding the job's lease, resumes from the
/// newest verified checkpoint, and stops without writing when a newer attempt has taken the job over.
/// </summary>
public sealed class TrainingRun(
    IDbContextFactory<GanDbContext> contexts,
    JobLedger ledger,
    ICheckpointStore checkpoints,
    DatasetCatalog datasets,
    FaultInjection faults,
    IOptions<GanOptions> options,
    IHostApplicationLifetime lifetime,
    IBackgroundJobClient hangfire,
    ScheduledEvaluations evaluations,
    ILogger<TrainingRun> logger
)
{
    private GanOptions Options => options.Value;

    /// <summary>
    /// Hangfire's own retries are off: crashes re-run through the invisibility timeout and count in our table.
    /// </summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public void Run(Guid jobId, CancellationToken shutdown)
    {
        var started = Wait(
            ct =>
                ledger.StartAsync(jobId, $"{Environment.MachineName}:{Environment.ProcessId}", Options.MaxAttempts, ct),
            "starting the job",
            shutdown
        );
        if (started is null)
            return;
        // On a thread of its own that ends with the attempt, so its OpenMP team does not outlive it (TorchRuntime's
        // remarks).
        TorchRuntime.RunOnOwnThread("training", Options.EffectiveTorchThreads, () =>
            Attempt(started.Job, started.Lease, shutdown)
        );
    }

    private void Attempt(TrainingJob job, JobLease lease, CancellationToken shutdown)
    {
        var jobId = lease.JobId;
        faults.OnJobStart(job.Name);
        var spec = job.Spec();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        using var watcher = new CancellationWatcher(contexts, jobId, Options.CancellationPollInterval, cancel);
        using var recorder = new ProgressRecorder(
            ledger,
            lease,
            logger,
            Options.ProgressWriteInterval,
            watcher.Observe
        );
        using var leaseLost = recorder.LeaseLost.Register(cancel.Cancel);
        bool requeued = false;
        try
        {
            var device = TorchRuntime.ResolveDevice(spec.Device);
            var data = datasets.Load(spec.Dataset, spec.Plan.Model.ImageSize, spec.Plan.Model.Channels, spec.Plan.Seed);
            var resumeFrom = Wait(
                ct => checkpoints.LatestVerifiedAsync(jobId, ct),
                "loading the newest checkpoint",
                shutdown
            );
            using var trainer = resumeFrom is null
                ? Create(spec, data, device, shutdown)
                : Trainers.Resume(resumeFrom.Bundle, data, device, resumeFrom.Sha256);
            // A continued job resumes from a checkpoint of its shorter plan.
            if (trainer.Plan.Steps != spec.Plan.Steps)
                trainer.ContinueTo(spec.Plan.Steps);
            if (resumeFrom is not null)
            {
                logger.LogInformation(
                    "Job {JobId} attempt {Attempt} resumes from its checkpoint at step {Step}.",
                    jobId,
                    lease.Attempt,
                    resumeFrom.Step
                );
                Wait(ct => ledger.ResumedAsync(lease, resumeFrom.Step, ct), "recording the resume", shutdown);
            }
            var attempt = new AttemptState(job, spec, data, device, resumeFrom?.Step ?? -1);
            // Early stopping may have decided at the checkpoint this attempt resumes from, its evaluation stored by
            // an attempt that died before it could end the job.
            bool stop =
                resumeFrom is not null
                && EvaluateAt(attempt, resumeFrom.Step, resumeFrom.Bundle, resumeFrom.Sha256, cancel.Token);
            if (!stop)
                stop = Train(lease, attempt, trainer, recorder, cancel.Token);
            recorder.Flush(TimeSpan.FromSeconds(30));
            if (recorder.LeaseLost.IsCancellationRequested)
                throw new LeaseLostException(lease);
            if (watcher.CancelRequested)
                End(lease, JobStatus.Cancelled, null);
            else if (shutdown.IsCancellationRequested)
            {
                logger.LogInformation(
                    "Job {JobId} stopped for shutdown at step {Step}; it will resume there.",
                    jobId,
                    trainer.Step
                );
                Requeue(job, lease);
                requeued = true;
            }
            else
                End(lease, JobStatus.Succeeded, null, stop ? StopReason(spec) : null);
        }
        catch (OperationCanceledException)
            when (shutdown.IsCancellationRequested && !recorder.LeaseLost.IsCancellationRequested)
        {
            // Stopped before training began (loading data, the checkpoint, recording the resume): requeued all the
            // same, or the job would show as running on a worker that is gone until another one picked it up.
            logger.LogInformation(
                "Job {JobId} stopped for shutdown before training; it will resume from its newest checkpoint.",
                jobId
            );
            requeued = Fenced(lease, () => Requeue(job, lease));
        }
        catch (LeaseLostException)
        {
            Stopped(lease);
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e))
        {
            // The outage outlasted Gan:OutageTolerance, so nothing can be written now: the attempt ends, Hangfire marks
            // its run failed once PostgreSQL is back, and the reconciler requeues the job (docs/reliability.md).
            logger.LogError(
                e,
                "Job {JobId} attempt {Attempt} gave up waiting for PostgreSQL; the reconciler will requeue it.",
                jobId,
                lease.Attempt
            );
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException && !DatabaseOutage.IsOutage(e))
        {
            logger.LogError(e, "Job {JobId} failed.", jobId);
            Fenced(lease, () => End(lease, JobStatus.Failed, JobFailures.Message(e, jobId)));
        }
        if (requeued)
            shutdown.ThrowIfCancellationRequested(); // Hangfire puts the job back in its queue
    }

    /// <summary>Trains to the plan's end, a stop or cancellation; true when early stopping ended it.</summary>
    private bool Train(
        JobLease lease,
        AttemptState attempt,
        Trainer trainer,
        ProgressRecorder recorder,
        CancellationToken token
    )
    {
        var spec = attempt.Spec;
        long lastCheckpoint = attempt.ResumedFrom;
        var progress = new StepProgress(faults);
        int metricsEvery = Options.MetricsEvery;
        while (!trainer.Finished && !token.IsCancellationRequested)
        {
            long nextCheckpoint = (trainer.Step / spec.CheckpointEvery + 1) * spec.CheckpointEvery;
            long nextMetric = (trainer.Step / metricsEvery + 1) * metricsEvery;
            int chunk = (int)(Math.Min(Math.Min(nextCheckpoint, nextMetric), spec.Plan.Steps) - trainer.Step);
            if (trainer.Train(chunk, progress, token) > 0 && progress.Latest is { } latest)
                recorder.Add(latest);
            if (trainer.Step % spec.CheckpointEvery == 0 || trainer.Finished)
            {
                // Progress first: an attempt that dies inside the checkpoint has still reported the steps it trained,
                // so the next one counts them as repeated (batched progress otherwise lags by up to its write
                // interval).
                recorder.Flush(TimeSpan.FromSeconds(5));
                try
                {
                    var (bundle, sha256) = Save(lease, trainer, token);
                    lastCheckpoint = trainer.Step;
                    if (EvaluateAt(attempt, trainer.Step, bundle, sha256, token))
                        return true;
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    // Cancelled or stopped while saving or evaluating (progress was just flushed, so a stop often
                    // lands here): the save after the loop stores this step without the token, and the attempt ends
                    // as it should; a resumed attempt evaluates the checkpoint it resumes from.
                }
            }
        }
        // Cancelled or shutting down: keep the work done since the last checkpoint (not when the lease is gone).
        if (trainer.Step != lastCheckpoint && !recorder.LeaseLost.IsCancellationRequested)
            Save(lease, trainer, CancellationToken.None);
        return false;
    }

    private Trainer Create(JobSpec spec, TrainingData data, TorchSharp.torch.Device device, CancellationToken ct) =>
        Transfer.StartingWeights.CreateTrainer(spec, data, device, from =>
            Wait(c => checkpoints.LoadAsync(from.Job, from.Step, c), "loading the checkpoint to start from", ct)
        );

    private bool EvaluateAt(AttemptState attempt, long step, byte[] bundle, string sha256, CancellationToken token) =>
        evaluations.AfterCheckpoint(
            new EvaluationTarget(attempt.Job.Id, attempt.Spec, attempt.Job.DatasetSha256, step),
            bundle,
            sha256,
            attempt.Data,
            attempt.Device,
            token
        );

    private static string StopReason(JobSpec spec) => QualityAlarms.StopReason(spec.Evaluation!.Patience!.Value);

    /// <summary>What an attempt trains with, for the steps that need more than the trainer.</summary>
    private sealed record AttemptState(
        TrainingJob Job,
        JobSpec Spec,
        TrainingData Data,
        TorchSharp.torch.Device Device,
        long ResumedFrom
    );

    /// <summary>
    /// Synchronous on purpose: training goes on only once the checkpoint is stored, so a crash loses at most one
    /// checkpoint interval. Through an outage it waits (training pauses) for up to <c>Gan:OutageTolerance</c>.
    /// </summary>
    private (byte[] Bundle, string Sha256) Save(JobLease lease, Trainer trainer, CancellationToken token)
    {
        var bundle = trainer.Checkpoint();
        var sha256 = CheckpointBundle.Sha256(bundle);
        var preview = trainer.PreviewPng();
        Wait(
            ct => checkpoints.SaveAsync(lease, trainer.Step, bundle, sha256, preview, ct),
            $"saving the checkpoint at step {trainer.Step}",
            token.IsCancellationRequested ? CancellationToken.None : token
        );
        return (bundle, sha256);
    }

    /// <summary>
    /// Hangfire cancels a job's token for two reasons: its server is stopping (then Hangfire puts the job back in its
    /// queue itself), or the Hangfire job's state changed under it, as when a superseded attempt on another worker
    /// returns and Hangfire marks the job it shared with this one Succeeded. This attempt still holds the lease (the
    /// ledger's fence checks it), so the job itself is unfinished: it goes back in the queue as a new Hangfire job,
    /// or it would stay Queued with nothing left to run it.
    /// </summary>
    private void Requeue(TrainingJob job, JobLease lease)
    {
        bool stopping = lifetime.ApplicationStopping.IsCancellationRequested;
        if (!stopping)
            logger.LogWarning(
                "Job {JobId}: its Hangfire job was aborted while this worker keeps running; it goes back in the queue.",
                lease.JobId
            );
        Wait(
            ct =>
                ledger.EndAsync(
                    lease,
                    JobStatus.Queued,
                    null,
                    ct,
                    stopping ? null : () => hangfire.EnqueueTraining(job)
                ),
            "requeueing the job",
            CancellationToken.None
        );
    }

    /// <summary>
    /// A write from a catch block, where a lost lease must end the attempt as quietly as it does in the try block;
    /// false when the lease was lost.
    /// </summary>
    private bool Fenced(JobLease lease, Action write)
    {
        try
        {
            write();
            return true;
        }
        catch (LeaseLostException)
        {
            Stopped(lease);
            return false;
        }
    }

    private void Stopped(JobLease lease)
    {
        logger.LogWarning(
            "Job {JobId} attempt {Attempt} stopped: a newer attempt owns the job, or it was deleted, so this worker "
                + "writes nothing more.",
            lease.JobId,
            lease.Attempt
        );
        Wait(ct => ledger.SupersededAsync(lease, ct), "recording the take-over", CancellationToken.None);
    }

    private void End(JobLease lease, JobStatus status, string? error, string? stopReason = null) =>
        Wait(
            ct => ledger.EndAsync(lease, status, error, ct, stopReason: stopReason),
            $"recording the job as {status}",
            CancellationToken.None
        );

    private void Wait(Func<CancellationToken, Task> action, string what, CancellationToken ct) =>
        DatabaseOutage.RetryAsync(() => action(ct), Options.OutageTolerance, logger, what, ct).GetAwaiter().GetResult();

    private T Wait<T>(Func<CancellationToken, Task<T>> action, string what, CancellationToken ct) =>
        DatabaseOutage.RetryAsync(() => action(ct), Options.OutageTolerance, logger, what, ct).GetAwaiter().GetResult();
}
