namespace GanService.Gan.Quality;

/// <summary>
/// One evaluation of a checkpoint's generator: its scores against the dataset's real statistics, the share of its
/// samples that are near-duplicates of another sample (near 1 for a collapsed generator, near 0 for a healthy one),
/// and for pix2pix the L1 distance (in [-1, 1] units) and PSNR (dB, pixels in [0, 1]) of its translations to their
/// paired targets; <paramref name="Seconds"/> is the wall time of the whole evaluation (docs/quality.md,
/// "Evaluating a checkpoint").
/// </summary>
public sealed record GeneratorEvaluation(
    QualityScores Scores,
    double DuplicateShare,
    double? L1,
    double? Psnr,
    double Seconds
);
