using static TorchSharp.torch;

namespace GanService.Gan.Training;

/// <summary>
/// When a progressive run is at which resolution: 4x4 trains for one phase, then each doubling fades in over one
/// phase (alpha 0 to 1) and trains stable for another, until the target, which keeps the rest of the run. A phase
/// is <see cref="TrainingPlan.ImagesPerPhase"/> real images. The stage is a function of the step alone, so a run
/// resumed mid-fade continues at exactly the alpha it stopped at.
/// </summary>
public sealed class ProgressiveSchedule
{
    private readonly int imageSize,
        batchSize,
        targetDepth;
    private readonly long imagesPerPhase;

    public ProgressiveSchedule(TrainingPlan plan)
    {
        imageSize = plan.Model.ImageSize;
        batchSize = plan.BatchSize;
        targetDepth = TargetDepth(plan);
        imagesPerPhase = ImagesPerPhaseOf(plan);
    }

    /// <summary>
    /// Real images per phase. By default the phases share the run, the target getting two shares (fade-in, then
    /// stable) plus its own.
    /// </summary>
    public static long ImagesPerPhaseOf(TrainingPlan plan) =>
        plan.ImagesPerPhase > 0
            ? plan.ImagesPerPhase
            : Math.Max(plan.BatchSize, (long)plan.Steps * plan.BatchSize / (2 * TargetDepth(plan) + 2));

    private static int TargetDepth(TrainingPlan plan) => (int)Math.Log2(plan.Model.ImageSize / 4);

    /// <summary>The resolution and fade-in alpha of the step that has shown step * batch images so far.</summary>
    public (int Resolution, double Alpha) At(long step)
    {
        long shown = step * batchSize;
        long phase = shown / imagesPerPhase;
        if (phase >= 2L * targetDepth)
            return (imageSize, 1);
        int depth = (int)((phase + 1) / 2);
        double alpha = phase % 2 == 1 ? (double)(shown - phase * imagesPerPhase) / imagesPerPhase : 1;
        return (4 << depth, alpha);
    }

    /// <summary>
    /// Real images at the stage's resolution (average pooling); while fading in, blended with their half-size
    /// version upsampled, as the generator's output is.
    /// </summary>
    public static Tensor Real(Tensor images, int resolution, double alpha)
    {
        var x =
            images.shape[^1] == resolution
                ? images
                : nn.functional.adaptive_avg_pool2d(images, [resolution, resolution]);
        if (alpha >= 1 || resolution == 4)
            return x;
        var coarse = nn.functional.interpolate(
            nn.functional.avg_pool2d(x, 2),
            scale_factor: [2, 2],
            mode: InterpolationMode.Nearest
        );
        return coarse.lerp(x, alpha);
    }

    /// <summary>Images shown at a smaller stage, enlarged (nearest) to the target size for display.</summary>
    public static Tensor ForDisplay(Tensor images, int imageSize) =>
        images.shape[^1] == imageSize
            ? images
            : nn.functional.interpolate(images, size: [imageSize, imageSize], mode: InterpolationMode.Nearest);
}
