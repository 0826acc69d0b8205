namespace GanService.Gan.Training;

/// <summary>
/// What one finished step reports. Scores are the discriminator's mean probabilities: D(x) on the real batch and
/// D(G(z)) on the fake batch of the D update. <see cref="DataWaitMilliseconds"/> is how long the step spent building
/// its real batches.
/// </summary>
public sealed record TrainingProgress(
    long Step,
    long TotalSteps,
    long Epoch,
    double DiscriminatorLoss,
    double GeneratorLoss,
    double RealScore,
    double FakeScore,
    double ImagesPerSecond,
    double DataWaitMilliseconds = 0
)
{
    /// <summary>
    /// Progressive growing: the resolution this step trained at, and the fade-in alpha of its newest block.
    /// </summary>
    public int? Resolution { get; init; }

    public double? Alpha { get; init; }
}

/// <summary>A loss became NaN or infinite: the weights after this step are worthless.</summary>
public sealed class TrainingDivergedException(long step, string detail)
    : Exception($"Training diverged at step {step}: {detail}.")
{
    public long Step { get; } = step;
}
