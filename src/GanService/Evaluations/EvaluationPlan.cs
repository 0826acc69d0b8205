using GanService.Gan.Families;
using GanService.Gan.Training;

namespace GanService.Evaluations;

/// <param name="Every">Evaluate every this many steps (a multiple of <c>checkpointEvery</c>), and at the last step;
/// 0 turns scheduled evaluation off. Default: halfway (rounded to a checkpoint) and at the end.</param>
/// <param name="Samples">Generated images (translations for pix2pix and cyclegan) per evaluation, 16 to
/// <c>Gan:Evaluation:MaxSamples</c>. The default depends on the family and image size (docs/quality.md).</param>
public sealed record EvaluationRequest(int? Every, int? Samples);

/// <param name="Patience">End the job (Succeeded) once the Frechet distance has not improved for this many
/// evaluations in a row, 1 to 100. Needs scheduled evaluation.</param>
public sealed record EarlyStoppingRequest(int? Patience);

/// <summary>
/// When a job's checkpoints are scored and on how many samples, with every default filled in: part of the stored
/// recipe. <see cref="Patience"/> is null without early stopping.
/// </summary>
public sealed record EvaluationPlan(int Every, int Samples, int? Patience = null)
{
    /// <summary>The metric a job's best checkpoint is chosen by: the Frechet distance in ResNet-18 features.</summary>
    public const string Metric = "fd_" + Gan.Quality.FeatureNetwork.Name;

    /// <summary>Evaluations without improvement that raise the plateau warning when no patience is set.</summary>
    public const int DefaultPlateau = 3;

    public bool Enabled => Every > 0;

    /// <summary>
    /// Whether the checkpoint at <paramref name="step"/> of a plan of <paramref name="steps"/> is scored.
    /// </summary>
    public bool Due(long step, long steps) => Enabled && step > 0 && (step % Every == 0 || step == steps);

    /// <summary>
    /// Images per evaluation by default: as many as keep scheduled evaluation within a tenth of a default job's time
    /// on two cores (docs/quality.md#default-sample-counts). Feature extraction costs the same per image at any size,
    /// while larger images make jobs many times longer, so they can afford more samples.
    /// </summary>
    public static int DefaultSamples(ModelRecipe model) =>
        ModelFamily.Of(model).Translates ? 512
        : model.ImageSize <= 32 ? 192
        : 1024;

    /// <summary>Halfway through, on a checkpoint, then at the end.</summary>
    public static int DefaultEvery(int steps, int checkpointEvery)
    {
        checkpointEvery = Math.Max(1, checkpointEvery); // an invalid value is refused on its own field
        return checkpointEvery * Math.Max(1, steps / checkpointEvery / 2);
    }
}

/// <summary>The evaluation fields of a job request, judged the way the rest of it is.</summary>
public static class EvaluationRules
{
    public const int MinSamples = 16,
        MaxPatience = 100;

    public static EvaluationPlan Apply(
        EvaluationRequest? request,
        EarlyStoppingRequest? earlyStopping,
        TrainingPlan plan,
        int checkpointEvery,
        EvaluationOptions options,
        Action<string, string> fail
    )
    {
        int maxSamples = options.MaxSamples;
        int every = request?.Every
            ?? (
                options.ByDefault || earlyStopping is not null
                    ? EvaluationPlan.DefaultEvery(plan.Steps, checkpointEvery)
                    : 0
            );
        int samples = request?.Samples ?? EvaluationPlan.DefaultSamples(plan.Model);
        if (every < 0)
            fail("evaluation.every", "Must be 0 (off) or a positive multiple of checkpointEvery.");
        else if (every > 0 && checkpointEvery > 0 && every % checkpointEvery != 0)
            fail(
                "evaluation.every",
                $"Must be a multiple of checkpointEvery ({checkpointEvery}): evaluations score stored checkpoints."
            );
        if (samples < MinSamples || samples > maxSamples)
            fail(
                "evaluation.samples",
                $"Must be from {MinSamples} to {maxSamples} (Gan:Evaluation:MaxSamples); the Frechet distance of "
                    + "fewer samples says little."
            );
        int? patience = earlyStopping?.Patience;
        if (earlyStopping is not null && patience is null)
            fail("training.earlyStopping.patience", "Required: evaluations without improvement before stopping.");
        else if (patience is < 1 or > MaxPatience)
            fail("training.earlyStopping.patience", $"Must be from 1 to {MaxPatience}.");
        else if (patience is not null && every == 0)
            fail("training.earlyStopping.patience", "Needs scheduled evaluation: set evaluation.every above 0.");
        return new EvaluationPlan(every, samples, patience);
    }
}
