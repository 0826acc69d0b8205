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
/// The course's alternating loop over a <see cref="TrainingPlan"/>: real and fake batches update D (n times for a
/// critic), then fresh fakes update G through the frozen D. Optional: gradient penalty, R1, DiffAugment, an EMA of
/// G, class labels. One dispose scope per update; all randomness comes from one seeded generator whose state travels
/// in the checkpoint, so a resumed run continues exactly as if never stopped.
/// </summary>
public sealed class GanTrainer : Trainer
{
    private readonly Device device;
    private readonly nn.Module generator,
        discriminator;
    private readonly ExponentialMovingAverage? ema;
    private readonly Adam generatorOptimizer,
        discriminatorOptimizer;
    private readonly IAdversarialLoss loss;
    private readonly ImageDataset data;
    private readonly BatchSampler sampler;
    private readonly torch.Generator rng;
    private readonly Tensor previewLatents;
    private readonly IReadOnlyList<string> augment;
    private readonly ProgressiveSchedule? growth;

    protected override IEnumerable<CheckpointPart> Parts =>
        [
            CheckpointPart.Network(CheckpointEntries.Generator, generator),
            CheckpointPart.Network(CheckpointEntries.Discriminator, discriminator),
            .. OptimizerAndRngParts(generatorOptimizer, discriminatorOptimizer, rng),
            CheckpointPart.Values(CheckpointEntries.PreviewLatents, previewLatents),
            .. ema is null ? [] : new[] { CheckpointPart.Network(CheckpointEntries.Ema, ema.Shadow) },
        ];

    private GanTrainer(TrainingPlan plan, ImageDataset data, Device device)
        : base(plan)
    {
        var model = plan.Model;
        if (data.Channels != model.Channels || data.ImageSize != model.ImageSize)
            throw new ArgumentException(
                $"The data is {data.ImageSize}x{data.ImageSize}x{data.Channels} "
                    + $"but the model wants {model.ImageSize}x{model.ImageSize}x{model.Channels}.",
                nameof(data)
            );
        if (model.Conditional && (data.Labels is null || data.Labels.Max() >= model.Classes))
            throw new ArgumentException(
                $"A class-conditional model needs labelled data with at most {model.Classes} classes.",
                nameof(data)
            );
        this.device = device;
        loss = AdversarialLosses.Create(plan.Loss);
        augment = plan.AugmentPolicies;
        this.data = data;
        sampler = new BatchSampler(plan.Seed, data.Count, plan.BatchSize);
        rng = new torch.Generator((ulong)plan.Seed);
        generator = GanNetworks.Generator(model);
        discriminator = GanNetworks.Discriminator(model);
        Initialization.Apply(generator, rng);
        Initialization.Apply(discriminator, rng);
        generator.to(device);
        discriminator.to(device);
        if (generator is StyleGenerator style)
            style.Rng = rng; // noise inputs and style mixing, reproducibly
        if (model.Family == ModelRecipe.ProGan)
            growth = new ProgressiveSchedule(plan);
        if (plan.EmaDecay > 0)
        {
            ema = new ExponentialMovingAverage(generator, GanNetworks.Generator(model).to(device), plan.EmaDecay);
            ema.Reset();
            ema.Shadow.eval();
        }
        var o = plan.Optimizer;
        generatorOptimizer = new Fused.Adam(generator.parameters(), o.GeneratorLearningRate, o.Beta1, o.Beta2);
        discriminatorOptimizer = new Fused.Adam(
            discriminator.parameters(),
            o.DiscriminatorLearningRate,
            o.Beta1,
            o.Beta2
        );
        using var previewRng = new torch.Generator((ulong)plan.Seed ^ 0x9E3779B97F4A7C15UL);
        previewLatents = randn([plan.PreviewCount, model.LatentSize], generator: previewRng);
    }

    public long GeneratorParameters => GanNetworks.ParameterCount(generator);
    public long DiscriminatorParameters => GanNetworks.ParameterCount(discriminator);

    /// <summary>A fresh run: networks initialised N(0, 0.02) from the plan's seed.</summary>
    public static GanTrainer Create(TrainingPlan plan, ImageDataset data, Device device) => new(plan, data, device);

    /// <summary>Continues from a checkpoint bundle (its SHA-256 checked when given).</summary>
    public static GanTrainer Resume(byte[] bundle, ImageDataset data, Device device, string? expectedSha256 = null) =>
        ResumeFrom(bundle, expectedSha256, model => !model.Translation, plan => new GanTrainer(plan, data, device));

    protected override TrainingProgress TrainStep()
    {
        var clock = Stopwatch.StartNew();
        double dLoss = 0,
            realScore = 0,
            fakeScore = 0,
            wait = 0;
        double gLoss = 0;
        var stage = Grow();
        for (int k = 0; k < Plan.CriticSteps; k++)
        {
            bool shared = Plan.SharedFakes && k == Plan.CriticSteps - 1;
            using (NewDisposeScope())
            {
                var (real, labels) = RealBatch(Step * Plan.CriticSteps + k, ref wait);
                if (stage is var (resolution, alpha))
                    real = ProgressiveSchedule.Real(real, resolution, alpha);
                // The fakes carry the real batch's labels; shared, the graph through G lives on for the G update.
                var fake = shared ? GanNetworks.Call(generator, Latents(), labels) : null;
                (dLoss, realScore, fakeScore) = DiscriminatorUpdate(
                    real,
                    labels,
                    fake?.detach(),
                    Step * Plan.CriticSteps + k
                );
                if (shared)
                    gLoss = GeneratorUpdate(fake, labels);
            }
        }
        if (!Plan.SharedFakes)
            using (NewDisposeScope())
                gLoss = GeneratorUpdate(null, null);
        long epoch = EpochAt(Step);
        Step++;
        return new TrainingProgress(
            Step,
            Plan.Steps,
            epoch,
            dLoss,
            gLoss,
            realScore,
            fakeScore,
            Plan.BatchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
            wait
        )
        {
            Resolution = stage?.Resolution,
            Alpha = stage?.Alpha,
        };
    }

    protected override long EpochAt(long step) => sampler.EpochOf(step * Plan.CriticSteps);

    /// <summary>
    /// The real batch of an update, built here on the training thread and not prefetched on another: a libtorch
    /// call on a second thread leaves an OpenMP team there, and with more OpenMP threads than cores the step's own
    /// team sleeps between operations instead of spinning (TorchRuntime's remarks). Measured: steps 15% slower with a
    /// prefetch thread, for a batch that takes well under a millisecond to build (docs/benchmarks.md).
    /// </summary>
    private (Tensor Images, Tensor? Labels) RealBatch(long update, ref double milliseconds)
    {
        var clock = Stopwatch.StartNew();
        var indices = sampler.Indices(update);
        var batch = (data.Batch(indices, device), Plan.Model.Conditional ? data.LabelBatch(indices, device) : null);
        milliseconds += clock.Elapsed.TotalMilliseconds;
        return batch;
    }

    /// <summary>Progressive growing: sets both networks to this step's resolution and fade-in alpha.</summary>
    private (int Resolution, double Alpha)? Grow()
    {
        if (growth is null)
            return null;
        var (resolution, alpha) = growth.At(Step);
        ((IProgressive)generator).SetStage(resolution, alpha);
        ((IProgressive)discriminator).SetStage(resolution, alpha);
        return (resolution, alpha);
    }

    private (double Loss, double RealScore, double FakeScore) DiscriminatorUpdate(
        Tensor real,
        Tensor? labels,
        Tensor? sharedFake,
        long update
    )
    {
        discriminatorOptimizer.zero_grad();
        var fake = sharedFake;
        // Without a shared batch, fakes for D carry the real batch's labels and need no graph through G.
        if (fake is null)
            using (no_grad())
                fake = GanNetworks.Call(generator, Latents(), labels);
        var (realLogits, fakeLogits) = DiscriminateBoth(real, fake, labels);
        var total = loss.Discriminator(realLogits, fakeLogits);
        if (Plan.GradientPenalty > 0)
            total =
                total + Penalties.GradientPenalty(x => Discriminate(x, labels), real, fake, Plan.GradientPenalty, rng);
        if (Plan.R1 > 0 && update % Plan.R1Every == 0)
            total = total + Penalties.R1(x => Discriminate(x, labels), real, Plan.R1 * Plan.R1Every);
        // ProGAN's drift term keeps the critic's scores near zero.
        if (growth is not null)
            total = total + 0.001 * realLogits.square().mean();
        total.backward();
        discriminatorOptimizer.step();
        return (total.item<float>(), Score(realLogits), Score(fakeLogits));
    }

    /// <summary>Updates G against the just-updated D, on the shared fakes or on a fresh batch of them.</summary>
    private double GeneratorUpdate(Tensor? fake, Tensor? labels)
    {
        Freeze(discriminator, true);
        try
        {
            generatorOptimizer.zero_grad();
            if (fake is null)
            {
                labels = Plan.Model.Conditional
                    ? randint(0, Plan.Model.Classes, [Plan.BatchSize], generator: rng).to(device)
                    : null;
                fake = GanNetworks.Call(generator, Latents(), labels);
            }
            var generatorLoss = loss.Generator(Discriminate(fake, labels));
            if (Plan.OrthogonalRegularization > 0)
                generatorLoss = generatorLoss + Penalties.Orthogonal(generator, Plan.OrthogonalRegularization);
            generatorLoss.backward();
            generatorOptimizer.step();
            ema?.Update();
            return generatorLoss.item<float>();
        }
        finally
        {
            Freeze(discriminator, false);
        }
    }

    private Tensor Discriminate(Tensor images, Tensor? labels) =>
        GanNetworks.Call(discriminator, Augment(images), labels);

    private Tensor Augment(Tensor images) => augment.Count > 0 ? DiffAugment.Apply(images, augment, rng) : images;

    /// <summary>
    /// D's logits for the real and the fake batch, in one pass where D can take both as two groups: the same logits
    /// as two passes (each batch still normalised alone), with half the layer calls, whose fixed costs run on one core.
    /// </summary>
    private (Tensor Real, Tensor Fake) DiscriminateBoth(Tensor real, Tensor fake, Tensor? labels)
    {
        long n = real.shape[0];
        if (
            !FastPaths.Current.Grouping
            || discriminator is not IGroupedDiscriminator { Groupable: true } grouped
            || fake.shape[0] != n
        )
            return (Discriminate(real, labels), Discriminate(fake, labels));
        var logits = grouped.Call(
            cat([Augment(real), Augment(fake)], 0),
            labels is null ? null : cat([labels, labels], 0),
            2
        );
        return (logits.narrow(0, 0, n), logits.narrow(0, n, n));
    }

    /// <summary>
    /// Mean D probability for BCE-style losses; the mean raw score for the others, whose outputs are not logits.
    /// </summary>
    private double Score(Tensor logits) =>
        (
            Plan.Loss is AdversarialLosses.NonSaturatingBce or AdversarialLosses.MinimaxBce
                ? logits.detach().sigmoid()
                : logits.detach()
        )
            .mean()
            .item<float>();

    private Tensor Latents() => randn([Plan.BatchSize, Plan.Model.LatentSize], generator: rng).to(device);

    private static void Freeze(nn.Module module, bool frozen)
    {
        foreach (var parameter in module.parameters())
            parameter.requires_grad = !frozen;
    }

    /// <summary>The generator's (or its EMA's) images for the fixed preview latents, as a PNG grid.</summary>
    public override byte[] PreviewPng(int columns = 4)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var network = ema?.Shadow ?? generator;
        bool wasTraining = network.training;
        network.eval();
        try
        {
            var labels = Plan.Model.Conditional
                ? PreviewLabels(Plan.PreviewCount, Plan.Model.Classes).to(device)
                : null;
            var images = GanNetworks.Call(network, previewLatents.to(device), labels);
            return ImageGrid.EncodePng(ProgressiveSchedule.ForDisplay(images, Plan.Model.ImageSize), columns);
        }
        finally
        {
            network.train(wasTraining);
        }
    }

    /// <summary>Class of each preview or default sample: 0, 1, ..., classes - 1, 0, 1, ...</summary>
    public static Tensor PreviewLabels(int count, int classes) => arange(count, ScalarType.Int64).remainder(classes);

    /// <summary>The generator's weights, for comparing runs.</summary>
    public IReadOnlyDictionary<string, Tensor> GeneratorState() => generator.state_dict();
}
