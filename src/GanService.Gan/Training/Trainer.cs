using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Training;

/// <summary>
/// The images a run trains on: one domain, or inputs with their targets for image-to-image translation.
/// </summary>
public sealed record TrainingData(ImageDataset Images, ImageDataset? Targets = null);

/// <summary>
/// What every family's trainer offers: steps with progress and cancellation between them, a checkpoint bundle
/// that resumes exactly, and a preview grid.
/// </summary>
public abstract partial class Trainer : IDisposable
{
    protected Trainer(TrainingPlan plan) => Plan = plan;

    public TrainingPlan Plan { get; private set; }
    public long Step { get; protected set; }
    public bool Finished => Step >= Plan.Steps;

    /// <summary>
    /// Runs up to <paramref name="maxSteps"/> steps, stopping early at the plan's end or when the token fires
    /// (checked between steps, never inside one). Returns the number of steps run.
    /// </summary>
    public int Train(
        int maxSteps,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        int done = 0;
        while (done < maxSteps && !Finished && !cancellationToken.IsCancellationRequested)
        {
            var report = TrainStep();
            if (!double.IsFinite(report.DiscriminatorLoss) || !double.IsFinite(report.GeneratorLoss))
                throw new TrainingDivergedException(
                    report.Step,
                    $"discriminator loss {report.DiscriminatorLoss}, generator loss {report.GeneratorLoss}"
                );
            done++;
            progress?.Report(report);
        }
        return done;
    }

    /// <summary>One step; it advances <see cref="Step"/> and reports it.</summary>
    protected abstract TrainingProgress TrainStep();

    /// <summary>The epoch whose batches a step trains on.</summary>
    protected abstract long EpochAt(long step);

    /// <summary>
    /// Everything the trainer owns and a resume needs, one checkpoint entry each, in the order they are written:
    /// checkpoint, resume and dispose all work from this one list.
    /// </summary>
    protected abstract IEnumerable<CheckpointPart> Parts { get; }

    public abstract byte[] PreviewPng(int columns = 4);

    /// <summary>Every part in one bundle, under a manifest with the plan, the step and its epoch.</summary>
    public byte[] Checkpoint()
    {
        var manifest = new CheckpointManifest(
            CheckpointBundle.Format,
            Plan,
            Step,
            EpochAt(Math.Max(Step - 1, 0)),
            DateTimeOffset.UtcNow
        );
        return CheckpointBundle.Write(manifest, Parts.Select(part => (part.Name, (Action<Stream>)part.Write)).ToList());
    }

    /// <summary>
    /// A trainer's Resume: opens the bundle (its SHA-256 checked when given), refuses a family the trainer does not
    /// train, builds the trainer from the stored plan and loads every part into it, disposing it if any of that fails.
    /// </summary>
    protected static T ResumeFrom<T>(
        byte[] bundle,
        string? expectedSha256,
        Func<ModelRecipe, bool> trains,
        Func<TrainingPlan, T> create
    )
        where T : Trainer
    {
        using var reader = CheckpointBundle.Open(bundle, expectedSha256);
        var plan = reader.Manifest.Plan;
        if (!trains(plan.Model))
            throw new ArgumentException(
                $"A {plan.Model.Family} checkpoint cannot resume in {typeof(T).Name}.",
                nameof(bundle)
            );
        var trainer = create(plan);
        try
        {
            foreach (var part in trainer.Parts)
                part.Read(reader.Entry(part.Name));
            trainer.Step = reader.Manifest.Step;
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    /// <summary>The optimizer and RNG parts every family carries.</summary>
    protected static IEnumerable<CheckpointPart> OptimizerAndRngParts(
        Adam generator,
        Adam discriminator,
        torch.Generator rng
    ) =>
        [
            CheckpointPart.Optimizer(CheckpointEntries.GeneratorOptimizer, generator),
            CheckpointPart.Optimizer(CheckpointEntries.DiscriminatorOptimizer, discriminator),
            CheckpointPart.Rng(CheckpointEntries.Rng, rng),
        ];

    /// <summary>Disposes what every part owns: networks, optimizers, tensors, the RNG.</summary>
    public void Dispose()
    {
        foreach (var owned in Parts.SelectMany(part => part.Owned))
            owned.Dispose();
    }
}
