namespace GanService.Evaluations;

/// <param name="Samples">Images to score, 16 to <c>Gan:Evaluation:MaxSamples</c>; default the job's own count, which
/// is the only count whose results compete for the job's best checkpoint.</param>
public sealed record EvaluateRequest(int? Samples);

/// <summary>
/// One evaluation of a checkpoint. <c>Fd</c> is <c>fd_resnet18</c>: the Frechet distance between ResNet-18 features
/// of the samples and of the dataset, comparable only with itself at the same side and sample count, never with
/// published Inception FIDs. <c>L1</c> (mean absolute difference in the [-1, 1] units of pix2pix's L1 loss) and
/// <c>Psnr</c> (dB, pixels in [0, 1]) compare pix2pix translations with their paired targets.
/// <c>DuplicateShare</c> is the share of samples with a near-duplicate among the others.
/// </summary>
public sealed record EvaluationResponse(
    long Step,
    int Samples,
    EvaluationStatus Status,
    bool Requested,
    bool Best,
    string Network,
    int Side,
    double? Fd,
    double? Kid,
    double? KidStd,
    double? Precision,
    double? Recall,
    double? DuplicateShare,
    double? L1,
    double? Psnr,
    double? Seconds,
    string? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    EvaluationLinks Links
)
{
    public static EvaluationResponse From(EvaluationRecord e, long? bestStep, int? jobSamples) =>
        new(
            e.Step,
            e.Samples,
            e.Status,
            e.Requested,
            e.Step == bestStep && e.Samples == jobSamples,
            e.Network,
            e.Side,
            e.Fd,
            e.Kid,
            e.KidStd,
            e.Precision,
            e.Recall,
            e.DuplicateShare,
            e.L1,
            e.Psnr,
            e.Seconds,
            e.Error,
            e.CreatedAt,
            e.FinishedAt,
            new EvaluationLinks(
                $"/api/jobs/{e.JobId}/checkpoints/{e.Step}/evaluation?samples={e.Samples}",
                $"/api/jobs/{e.JobId}/checkpoints/{e.Step}/preview.png"
            )
        );
}

public sealed record EvaluationLinks(string Self, string Preview);
