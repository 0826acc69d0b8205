using System.Diagnostics;
using GanService.Gan.Checkpoints;
using GanService.Gan.Cpu;
using GanService.Gan.Data;
using GanService.Gan.Imaging;
using GanService.Gan.Losses;
using GanService.Gan.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Training;

/// <summary>
/// Pix2Pix (Isola et al. 2017) on paired data: D tells real (input, target) pairs from (input, G(input)) pairs
/// patch by patch; G fools it while staying within L1 of the target (lambda 100 by default). Seeded and resumable
/// like every trainer.
/// </summary>
public sealed class Pix2PixTrainer : Trainer
{
    private const int PreviewPairs = 4;

    private readonly ImageDataset inputs,
        targets;
    private readonly Device device;
    private readonly UNetGenerator generator;
    private readonly PatchDiscriminator discriminator;
    private readonly Adam generatorOptimizer,
        discriminatorOptimizer;
    private readonly IAdversarialLoss loss;
    private readonly BatchSampler sampler;
    private readonly torch.Generator rng;

    protected override IEnumerable<CheckpointPart> Parts =>
        [
            CheckpointPart.Network(CheckpointEntries.Generator, generator),
            CheckpointPart.Network(CheckpointEntries.Discriminator, discriminator),
            .. OptimizerAndRngParts(generatorOptimizer, discriminatorOptimizer, rng),
        ];

    private Pix2PixTrainer(TrainingPlan plan, TrainingData data, Device device)
        : base(plan)
    {
        inputs = data.Images;
        targets = data.Targets
            ?? throw new ArgumentException("Pix2Pix trains on paired data: inputs and their targets.", nameof(data));
        if (
            inputs.Count != targets.Count
            || inputs.ImageSize != plan.Model.ImageSize
            || inputs.Channels != plan.Model.Channels
            || targets.ImageSize != plan.Model.ImageSize
            || targets.Channels != plan.Model.Channels
        )
            throw new ArgumentException(
                "Inputs and targets must be as many, and of the model's size and channels.",
                nameof(data)
            );
        this.device = device;
        loss = AdversarialLosses.Create(plan.Loss);
        sampler = new BatchSampler(plan.Seed, HeldOutInputs.Training(plan, inputs.Count), plan.BatchSize);
        rng = new torch.Generator((ulong)plan.Seed);
        generator = new UNetGenerator(plan.Model);
        discriminator = new PatchDiscriminator(2 * plan.Model.Channels);
        Initialization.Apply(generator, rng);
        Initialization.Apply(discriminator, rng);
        generator.to(device);
        discriminator.to(device);
        var o = plan.Optimizer;
        generatorOptimizer = new Fused.Adam(generator.parameters(), o.GeneratorLearningRate, o.Beta1, o.Beta2);
        discriminatorOptimizer = new Fused.Adam(
            discriminator.parameters(),
            o.DiscriminatorLearningRate,
            o.Beta1,
            o.Beta2
        );
    }

    public static Pix2PixTrainer Create(TrainingPlan plan, TrainingData data, Device device) => new(plan, data, device);

    public static Pix2PixTrainer Resume(byte[] bundle, TrainingData data, Device device) =>
        ResumeFrom(
            bundle,
            null,
            model => model.Family == ModelRecipe.Pix2Pix,
            plan => new Pix2PixTrainer(plan, data, device)
        );

    public long GeneratorParameters => GanNetworks.ParameterCount(generator);
    public long DiscriminatorParameters => GanNetworks.ParameterCount(discriminator);

    protected override TrainingProgress TrainStep()
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var indices = sampler.Indices(Step);
        var a = inputs.Batch(indices, device);
        var b = targets.Batch(indices, device);

        discriminatorOptimizer.zero_grad();
        Tensor fake;
        using (no_grad())
            fake = generator.call(a);
        var realLogits = discriminator.call(cat([a, b], 1));
        var fakeLogits = discriminator.call(cat([a, fake], 1));
        var dLoss = loss.Discriminator(realLogits, fakeLogits);
        dLoss.backward();
        discriminatorOptimizer.step();

        foreach (var p in discriminator.parameters())
            p.requires_grad = false;
        generatorOptimizer.zero_grad();
        var output = generator.call(a);
        var gLoss = loss.Generator(discriminator.call(cat([a, output], 1))) + Plan.L1 * (output - b).abs().mean();
        gLoss.backward();
        generatorOptimizer.step();
        foreach (var p in discriminator.parameters())
            p.requires_grad = true;

        long epoch = EpochAt(Step);
        Step++;
        return new TrainingProgress(
            Step,
            Plan.Steps,
            epoch,
            dLoss.item<float>(),
            gLoss.item<float>(),
            realLogits.detach().sigmoid().mean().item<float>(),
            fakeLogits.detach().sigmoid().mean().item<float>(),
            Plan.BatchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)
        );
    }

    protected override long EpochAt(long step) => sampler.EpochOf(step);

    /// <summary>Rows of input, output and target for the first items of the data.</summary>
    public override byte[] PreviewPng(int columns = 3)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var indices = Enumerable.Range(0, Math.Min(PreviewPairs, inputs.Count)).Select(i => (long)i).ToArray();
        var a = inputs.Batch(indices, device);
        generator.eval();
        try
        {
            var rows = stack([a, generator.call(a), targets.Batch(indices, device)], 1).flatten(0, 1);
            return ImageGrid.EncodePng(rows, 3);
        }
        finally
        {
            generator.train();
        }
    }

    public IReadOnlyDictionary<string, Tensor> GeneratorState() => generator.state_dict();
}
