using GanService.Datasets;
using GanService.Gan.Checkpoints;
using GanService.Gan.Quality;
using GanService.Gan.Training;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace GanService.Evaluations;

/// <summary>A stored checkpoint to score, with what identifies its job's data.</summary>
public sealed record EvaluationTarget(Guid JobId, JobSpec Spec, string? DatasetSha256, long Step);

/// <summary>
/// Scores checkpoints on the thread that calls it (a training attempt's, or an on-demand evaluation's), with one
/// feature network per device kept for the life of the process. A failure to score is stored as a failed
/// evaluation, never thrown: a job does not fail because its evaluation did. Cancellation and database outages are
/// thrown, since the caller must stop or wait.
/// </summary>
public sealed class CheckpointEvaluator(
    RealStatisticsStore statistics,
    EvaluationStore store,
    IOptions<EvaluationOptions> options,
    IOptions<GanOptions> gan,
    ILogger<CheckpointEvaluator> logger
) : IDisposable
{
    private readonly Dictionary<string, FeatureNetwork> networks = [];
    private readonly Lock gate = new();

    /// <summary>
    /// Scores the checkpoint and stores the row. <paramref name="data"/> is called inside, so that a dataset that
    /// cannot be loaded makes a failed evaluation.
    /// </summary>
    public EvaluationRecord Evaluate(
        EvaluationTarget target,
        CheckpointReader checkpoint,
        Func<TrainingData> data,
        Device device,
        int samples,
        bool requested,
        CancellationToken ct
    )
    {
        var jobSamples = target.Spec.Evaluation?.Samples;
        var record = new EvaluationRecord
        {
            JobId = target.JobId,
            Step = target.Step,
            Samples = samples,
            Requested = requested,
            Network = FeatureNetwork.Name,
            Side = FeatureNetwork.DefaultSide,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        try
        {
            // One evaluation at a time per process: they share the feature network, and a second would only halve
            // the first one's cores.
            lock (gate)
            {
                var network = Network(device);
                record.Side = network.Side;
                var images = data();
                var real = RealStatistics(target, network, images, ct);
                var result = GeneratorEvaluator.Evaluate(network, checkpoint, images, real, samples, ct);
                record.Status = EvaluationStatus.Succeeded;
                record.Fd = result.Scores.Fd;
                record.Kid = result.Scores.Kid;
                record.KidStd = result.Scores.KidStd;
                record.Precision = result.Scores.Precision;
                record.Recall = result.Scores.Recall;
                record.DuplicateShare = result.DuplicateShare;
                record.L1 = result.L1;
                record.Psnr = result.Psnr;
                record.Seconds = result.Seconds;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && !DatabaseOutage.IsOutage(e))
        {
            logger.LogError(e, "Evaluating job {JobId} at step {Step} failed.", target.JobId, target.Step);
            record.Status = EvaluationStatus.Failed;
            record.Error = e
                is CorruptCheckpointException
                    or InvalidDataException
                    or DatasetUnavailableException
                    or FileNotFoundException
                    or DirectoryNotFoundException
                ? e.Message
                : $"An internal error ({e.GetType().Name}); the worker's log has the details under job {target.JobId}.";
        }
        record.FinishedAt = DateTimeOffset.UtcNow;
        if (!Wait(c => store.SaveAsync(record, jobSamples, c), "storing an evaluation", ct))
        {
            logger.LogInformation("Job {JobId} was deleted while step {Step} was scored.", target.JobId, target.Step);
            return record;
        }
        logger.LogInformation(
            "Job {JobId} step {Step}: {Status} evaluation on {Samples} samples, fd_resnet18 {Fd}.",
            target.JobId,
            target.Step,
            record.Status,
            samples,
            record.Fd
        );
        return record;
    }

    private RealStatistics RealStatistics(
        EvaluationTarget target,
        FeatureNetwork network,
        TrainingData data,
        CancellationToken ct
    )
    {
        var key = RealStatisticsStore.Key(target.Spec, target.DatasetSha256, network.Side);
        var found = Wait(c => statistics.FindAsync(key, c), "reading real statistics", ct);
        if (found is not null)
            return found;
        logger.LogInformation("Computing the real statistics {Key} for job {JobId}.", key, target.JobId);
        var (computed, record) = RealStatisticsStore.Compute(
            key,
            target.Spec,
            target.DatasetSha256,
            network,
            data,
            options.Value.RealSamples,
            ct
        );
        Wait(c => statistics.SaveAsync(record, c), "storing real statistics", ct);
        return computed;
    }

    private FeatureNetwork Network(Device device)
    {
        var name = device.ToString();
        if (!networks.TryGetValue(name, out var network))
            networks[name] = network = FeatureNetwork.Load(
                string.IsNullOrEmpty(options.Value.FeatureNetworkDirectory)
                    ? null
                    : options.Value.FeatureNetworkDirectory,
                device
            );
        return network;
    }

    private T Wait<T>(Func<CancellationToken, Task<T>> action, string what, CancellationToken ct) =>
        DatabaseOutage
            .RetryAsync(() => action(ct), gan.Value.OutageTolerance, logger, what, ct)
            .GetAwaiter()
            .GetResult();

    private void Wait(Func<CancellationToken, Task> action, string what, CancellationToken ct) =>
        DatabaseOutage
            .RetryAsync(() => action(ct), gan.Value.OutageTolerance, logger, what, ct)
            .GetAwaiter()
            .GetResult();

    public void Dispose()
    {
        foreach (var network in networks.Values)
            network.Dispose();
    }
}
