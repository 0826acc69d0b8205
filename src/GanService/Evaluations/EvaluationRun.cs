using GanService.Checkpoints;
using GanService.Datasets;
using GanService.Gan.Checkpoints;
using GanService.Gan.Runtime;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Evaluations;

/// <summary>
/// The Hangfire job behind an evaluation requested over HTTP. It receives the row's key and is safe to run again
/// (Hangfire promises at least once): a finished row is left as it is.
/// </summary>
public sealed class EvaluationRun(
    IDbContextFactory<GanDbContext> contexts,
    ICheckpointStore checkpoints,
    DatasetCatalog datasets,
    CheckpointEvaluator evaluator,
    IOptions<GanOptions> options,
    ILogger<EvaluationRun> logger
)
{
    [AutomaticRetry(Attempts = 2, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public void Run(Guid jobId, long step, int samples, CancellationToken shutdown)
    {
        var (job, row) = Wait(ct => LoadAsync(jobId, step, samples, ct), shutdown);
        if (job is null || row is null || row.Status is EvaluationStatus.Succeeded or EvaluationStatus.Failed)
            return; // the job was deleted, or a run before this one finished the evaluation
        Wait(ct => MarkRunningAsync(jobId, step, samples, ct), shutdown);
        var spec = job.Spec();
        var target = new EvaluationTarget(jobId, spec, job.DatasetSha256, step);
        var model = spec.Plan.Model;
        TorchRuntime.RunOnOwnThread("evaluation", options.Value.EffectiveTorchThreads, () =>
        {
            var device = TorchRuntime.ResolveDevice(spec.Device);
            using var bundle = Wait(ct => checkpoints.OpenBundleAsync(jobId, step, ct), shutdown);
            if (bundle is null)
            {
                Wait(ct => MarkGoneAsync(jobId, step, samples, ct), shutdown);
                return;
            }
            using var reader = CheckpointBundle.Open(bundle);
            evaluator.Evaluate(
                target,
                reader,
                () => datasets.Load(spec.Dataset, model.ImageSize, model.Channels, spec.Plan.Seed),
                device,
                samples,
                requested: true,
                shutdown
            );
        });
    }

    private async Task<(TrainingJob?, EvaluationRecord?)> LoadAsync(
        Guid jobId,
        long step,
        int samples,
        CancellationToken ct
    )
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId, ct);
        var row = await db
            .Evaluations.AsNoTracking()
            .SingleOrDefaultAsync(e => e.JobId == jobId && e.Step == step && e.Samples == samples, ct);
        return (job, row);
    }

    private async Task<int> MarkRunningAsync(Guid jobId, long step, int samples, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db
            .Evaluations.Where(e => e.JobId == jobId && e.Step == step && e.Samples == samples)
            .Where(e => e.Status == EvaluationStatus.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.Status, EvaluationStatus.Running), ct);
    }

    private async Task<int> MarkGoneAsync(Guid jobId, long step, int samples, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db
            .Evaluations.Where(e => e.JobId == jobId && e.Step == step && e.Samples == samples)
            .ExecuteUpdateAsync(
                s =>
                    s.SetProperty(e => e.Status, EvaluationStatus.Failed)
                        .SetProperty(e => e.Error, $"The checkpoint at step {step} no longer exists.")
                        .SetProperty(e => e.FinishedAt, DateTimeOffset.UtcNow),
                ct
            );
    }

    private T Wait<T>(Func<CancellationToken, Task<T>> action, CancellationToken ct) =>
        DatabaseOutage
            .RetryAsync(() => action(ct), options.Value.OutageTolerance, logger, "an evaluation", ct)
            .GetAwaiter()
            .GetResult();
}
