using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Training;

/// <summary>The images a run trains on: one domain, or inputs with their targets for image-to-image translation.</summary>
public sealed record TrainingData(ImageDataset Images, ImageDataset? Targets = null);

/// <summary>
/// What every family's trainer offers: steps with progress and cancellation between them, a checkpoint bundle
/// that resumes exactly, and a preview grid.
/// </summary>
public abstract class Trainer : IDisposable
{
    protected Trainer(TrainingPlan plan) => Plan = plan;

    public TrainingPlan Plan { get; }
    public long Step { get; protected set; }
    public bool Finished => Step >= Plan.Steps;

    /// <summary>
    /// Runs up to <paramref name="maxSteps"/> steps, stopping early at the plan's end or when the token fires
    /// (checked between steps, never inside one). Returns the number of steps run.
    /// </summary>
    public int Train(int maxSteps, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        int done = 0;
        while (done < maxSteps && !Finished && !cancellationToken.IsCancellationRequested)
        {
            var report = TrainStep();
            if (!double.IsFinite(report.DiscriminatorLoss) || !double.IsFinite(report.GeneratorLoss))
                throw new TrainingDivergedException(report.Step, $"discriminator loss {report.DiscriminatorLoss}, generator loss {report.GeneratorLoss}");
            done++;
            progress?.Report(report);
        }
        return done;
    }

    /// <summary>One step; it advances <see cref="Step"/> and reports it.</summary>
    protected abstract TrainingProgress TrainStep();

    public abstract byte[] Checkpoint();

    public abstract byte[] PreviewPng(int columns = 4);

    public abstract void Dispose();

    private const string GeneratorOptimizerEntry = "optimizer-generator.bin", DiscriminatorOptimizerEntry = "optimizer-discriminator.bin";
    private const string RngEntry = "rng.bin";

    /// <summary>The checkpoint entries every family carries: both optimizers' states and the run's RNG state.</summary>
    protected static IEnumerable<(string Name, Action<Stream> Write)> OptimizerAndRngEntries(Adam generator, Adam discriminator, torch.Generator rng) =>
    [
        (GeneratorOptimizerEntry, s => Write(s, generator.save_state_dict)),
        (DiscriminatorOptimizerEntry, s => Write(s, discriminator.save_state_dict)),
        (RngEntry, s => { using var state = rng.get_state(); Write(s, state.Save); }),
    ];

    /// <summary>Restores what <see cref="OptimizerAndRngEntries"/> wrote.</summary>
    protected static void LoadOptimizersAndRng(CheckpointReader reader, Adam generator, Adam discriminator, torch.Generator rng)
    {
        generator.load_state_dict(new BinaryReader(reader.Entry(GeneratorOptimizerEntry)));
        discriminator.load_state_dict(new BinaryReader(reader.Entry(DiscriminatorOptimizerEntry)));
        using var state = Tensor.Load(reader.Entry(RngEntry));
        rng.set_state(state);
    }

    /// <summary>Writes through a BinaryWriter left open: TorchSharp's Stream overloads close the stream.</summary>
    protected static void Write(Stream stream, Action<BinaryWriter> write)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        write(writer);
        writer.Flush();
    }
}
