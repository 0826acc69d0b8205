using GanService.Gan.Checkpoints;
using GanService.Gan.Training;
using GanService.Hosting;
using GanService.Persistence;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace GanService.Evaluations;

/// <summary>
/// A training attempt's evaluations: each checkpoint the job's plan names is scored as soon as it is stored, on the
/// training thread (training waits, so the two never share the cores). A checkpoint whose evaluation is stored
/// already is not scored again, which also makes a resumed attempt score the checkpoint it resumes from when the
/// attempt before it died between storing that checkpoint and its evaluation.
/// </summary>
public sealed class ScheduledEvaluations(
    CheckpointEvaluator evaluator,
    EvaluationStore store,
    IOptions<GanOptions> gan,
    FaultInjection faults,
    ILogger<ScheduledEvaluations> logger
)
{
    /// <summary>
    /// Scores the checkpoint at <paramref name="target"/>'s step if it is due; true when early stopping ends the
    /// job there.
    /// </summary>
    public bool AfterCheckpoint(
        EvaluationTarget target,
        byte[] bundle,
        string sha256,
        TrainingData data,
        Device device,
        CancellationToken ct
    )
    {
        if (target.Spec.Evaluation is not { } plan || !plan.Due(target.Step, target.Spec.Plan.Steps))
            return false;
        var stored = Wait(c => store.FindAsync(target.JobId, target.Step, plan.Samples, c), ct);
        if (stored?.Status is not (EvaluationStatus.Succeeded or EvaluationStatus.Failed))
        {
            faults.OnEvaluation(target.Step);
            using var reader = CheckpointBundle.Open(bundle, sha256);
            evaluator.Evaluate(target, reader, () => data, device, plan.Samples, requested: false, ct);
        }
        if (plan.Patience is not { } patience)
            return false;
        var finished = Wait(c => store.FinishedAsync(target.JobId, plan.Samples, c), ct);
        return QualityAlarms.ShouldStop(finished, patience, target.Spec.ContinuedFrom);
    }

    private T Wait<T>(Func<CancellationToken, Task<T>> action, CancellationToken ct) =>
        DatabaseOutage
            .RetryAsync(() => action(ct), gan.Value.OutageTolerance, logger, "reading evaluations", ct)
            .GetAwaiter()
            .GetResult();
}
