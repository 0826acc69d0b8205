using System.Text.Json;
using GanService.Gan.Families;
using GanService.Gan.Training;

namespace GanService.Jobs;

public static class JobMapping
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Serialize(JobSpec spec) => JsonSerializer.Serialize(spec, Json);

    public static JobSpec Spec(this TrainingJob job) => Spec(job.Id, job.Recipe);

    /// <summary>
    /// A job's stored recipe, for queries that read that column alone. Rows written before the recipe held its plan
    /// keep the plan's fields flat beside name, dataset, checkpointEvery and device, under the very names a
    /// <see cref="TrainingPlan"/> reads: such a row reads as a plan too.
    /// </summary>
    public static JobSpec Spec(Guid jobId, string recipe)
    {
        var spec = JsonSerializer.Deserialize<JobSpec>(recipe, Json)
            ?? throw new InvalidOperationException($"Job {jobId} has no recipe.");
        return spec.Plan is null ? spec with { Plan = JsonSerializer.Deserialize<TrainingPlan>(recipe, Json)! } : spec;
    }

    public static JobResponse ToResponse(this TrainingJob job)
    {
        var spec = job.Spec();
        var plan = spec.Plan;
        var generator = ModelFamily.Of(plan.Model).Translates ? "translate" : "samples.png";
        var links = new JobLinks(
            $"/api/jobs/{job.Id}",
            $"/api/jobs/{job.Id}/metrics",
            $"/api/jobs/{job.Id}/checkpoints",
            $"/api/generators/{job.Id}/{generator}",
            $"/api/jobs/{job.Id}/cancel"
        )
        {
            Evaluations = $"/api/jobs/{job.Id}/evaluations",
        };
        LatestMetrics? latest = job.DiscriminatorLoss is null
            ? null
            : new(
                job.DiscriminatorLoss.Value,
                job.GeneratorLoss ?? 0,
                job.RealScore ?? 0,
                job.FakeScore ?? 0,
                job.ImagesPerSecond ?? 0
            )
            {
                Resolution = job.Resolution,
                Alpha = job.Alpha,
            };
        double? eta =
            job.Status == JobStatus.Running && job.ImagesPerSecond > 0
                ? (job.TotalSteps - job.Step) * plan.BatchSize / job.ImagesPerSecond.Value
            : job.IsFinished ? 0
            : null;
        return new JobResponse(
            job.Id,
            job.Name,
            job.Status,
            job.Dataset,
            job.DatasetSha256,
            plan.Model,
            JobTrainingResponse.From(plan),
            spec.CheckpointEvery,
            job.Seed,
            job.Device,
            job.Step,
            job.TotalSteps,
            job.TotalSteps == 0 ? 0 : Math.Round(100.0 * job.Step / job.TotalSteps, 2),
            eta,
            latest,
            job.Error,
            job.Attempts,
            job.Worker,
            job.Owner,
            job.Public,
            job.CreatedAt,
            job.StartedAt,
            job.FinishedAt,
            links
        )
        {
            Evaluation = spec.Evaluation,
            StopReason = job.StopReason,
            InitFrom = spec.InitFrom,
            ContinuedFrom = spec.ContinuedFrom,
            Checkpoints = spec.Checkpoints,
            Best = job is { BestStep: { } step, BestFd: { } fd }
                ? new BestCheckpoint(step, Evaluations.EvaluationPlan.Metric, fd)
                : null,
        };
    }

    public static MetricResponse ToResponse(this TrainingMetric m) =>
        new(
            m.Step,
            m.Epoch,
            m.DiscriminatorLoss,
            m.GeneratorLoss,
            m.RealScore,
            m.FakeScore,
            m.ImagesPerSecond,
            m.RecordedAt
        )
        {
            Resolution = m.Resolution,
            Alpha = m.Alpha,
        };
}
