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
/// CycleGAN (Zhu et al. 2017) on unpaired domains A and B: G_AB and G_BA fool D_B and D_A (least squares by
/// default), translate back to where they started (cycle loss, lambda 10) and leave images of their own target
/// domain alone (identity loss, lambda 5); the discriminators see fakes through image pools.
/// </summary>
public sealed class CycleGanTrainer : Trainer
{
    public const double CycleWeight = 10,
        IdentityWeight = 5;

    private readonly DomainBatches batches;
    private readonly ImageDataset domainA,
        domainB;
    private readonly Device device;
    private readonly ResnetGenerator generatorAb,
        generatorBa;
    private readonly PatchDiscriminator discriminatorA,
        discriminatorB;
    private readonly Adam generatorOptimizer,
        discriminatorOptimizer;
    private readonly IAdversarialLoss loss;
    private readonly ImagePool poolA = new(),
        poolB = new();
    private readonly torch.Generator rng;

    /// <summary>G_AB and D_A under the names every family's G and D use; both image pools in one entry.</summary>
    protected override IEnumerable<CheckpointPart> Parts =>
        [
            CheckpointPart.Network(CheckpointEntries.Generator, generatorAb),
            CheckpointPart.Network(CheckpointEntries.GeneratorBa, generatorBa),
            CheckpointPart.Network(CheckpointEntries.Discriminator, discriminatorA),
            CheckpointPart.Network(CheckpointEntries.DiscriminatorB, discriminatorB),
            .. OptimizerAndRngParts(generatorOptimizer, discriminatorOptimizer, rng),
            new(
                CheckpointEntries.ImagePools,
                w =>
                {
                    poolA.Save(w);
                    poolB.Save(w);
                },
                s =>
                {
                    using var pools = new BinaryReader(s);
                    poolA.Load(pools, device);
                    poolB.Load(pools, device);
                },
                poolA,
                poolB
            ),
        ];

    private CycleGanTrainer(TrainingPlan plan, TrainingData data, Device device)
        : base(plan)
    {
        domainA = data.Images;
        domainB = data.Targets ?? throw new ArgumentException("CycleGAN trains on two domains.", nameof(data));
        this.device = device;
        batches = new DomainBatches(
            domainA,
            domainB,
            paired: false,
            plan.Seed,
            plan.BatchSize,
            trainingA: HeldOutInputs.Training(plan, domainA.Count)
        );
        loss = AdversarialLosses.Create(plan.Loss);
        rng = new torch.Generator((ulong)plan.Seed);
        generatorAb = new ResnetGenerator(plan.Model);
        generatorBa = new ResnetGenerator(plan.Model);
        discriminatorA = new PatchDiscriminator(plan.Model.Channels);
        discriminatorB = new PatchDiscriminator(plan.Model.Channels);
        foreach (var network in Networks)
        {
            Initialization.Apply(network, rng);
            network.to(device);
        }
        var o = plan.Optimizer;
        generatorOptimizer = new Fused.Adam(
            generatorAb.parameters().Concat(generatorBa.parameters()),
            o.GeneratorLearningRate,
            o.Beta1,
            o.Beta2
        );
        discriminatorOptimizer = new Fused.Adam(
            discriminatorA.parameters().Concat(discriminatorB.parameters()),
            o.DiscriminatorLearningRate,
            o.Beta1,
            o.Beta2
        );
    }

    private IEnumerable<nn.Module> Networks => [generatorAb, generatorBa, discriminatorA, discriminatorB];

    public static CycleGanTrainer Create(TrainingPlan plan, TrainingData data, Device device) =>
        new(plan, data, device);

    public static CycleGanTrainer Resume(byte[] bundle, TrainingData data, Device device) =>
        ResumeFrom(
            bundle,
            null,
            model => model.Family == ModelRecipe.CycleGan,
            plan => new CycleGanTrainer(plan, data, device)
        );

    protected override TrainingProgress TrainStep()
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var (a, b) = batches.Batch(Step, device);

        foreach (var p in discriminatorA.parameters().Concat(discriminatorB.parameters()))
            p.requires_grad = false;
        generatorOptimizer.zero_grad();
        var fakeB = generatorAb.call(a);
        var fakeA = generatorBa.call(b);
        var adversarial = loss.Generator(discriminatorB.call(fakeB)) + loss.Generator(discriminatorA.call(fakeA));
        var cycle = (generatorBa.call(fakeB) - a).abs().mean() + (generatorAb.call(fakeA) - b).abs().mean();
        var identity = (generatorAb.call(b) - b).abs().mean() + (generatorBa.call(a) - a).abs().mean();
        var gLoss = adversarial + CycleWeight * cycle + IdentityWeight * identity;
        gLoss.backward();
        generatorOptimizer.step();
        foreach (var p in discriminatorA.parameters().Concat(discriminatorB.parameters()))
            p.requires_grad = true;

        discriminatorOptimizer.zero_grad();
        var realA = discriminatorA.call(a);
        var realB = discriminatorB.call(b);
        var pooledA = discriminatorA.call(poolA.Query(fakeA, rng));
        var pooledB = discriminatorB.call(poolB.Query(fakeB, rng));
        var dLoss = 0.5 * (loss.Discriminator(realA, pooledA) + loss.Discriminator(realB, pooledB));
        dLoss.backward();
        discriminatorOptimizer.step();

        long epoch = EpochAt(Step);
        Step++;
        return new TrainingProgress(
            Step,
            Plan.Steps,
            epoch,
            dLoss.item<float>(),
            gLoss.item<float>(),
            (realA.mean() + realB.mean()).item<float>() / 2,
            (pooledA.mean() + pooledB.mean()).item<float>() / 2,
            Plan.BatchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)
        );
    }

    protected override long EpochAt(long step) => batches.EpochOf(step);

    /// <summary>Rows of a real A, its translation to B and its way back; then the same from B.</summary>
    public override byte[] PreviewPng(int columns = 3)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        generatorAb.eval();
        generatorBa.eval();
        try
        {
            long[] Pick(ImageDataset d) => Enumerable.Range(0, Math.Min(2, d.Count)).Select(i => (long)i).ToArray();
            var a = domainA.Batch(Pick(domainA), device);
            var b = domainB.Batch(Pick(domainB), device);
            var ab = generatorAb.call(a);
            var ba = generatorBa.call(b);
            var rows = cat(
                [
                    stack([a, ab, generatorBa.call(ab)], 1).flatten(0, 1),
                    stack([b, ba, generatorAb.call(ba)], 1).flatten(0, 1),
                ],
                0
            );
            return ImageGrid.EncodePng(rows, 3);
        }
        finally
        {
            generatorAb.train();
            generatorBa.train();
        }
    }

    public IReadOnlyDictionary<string, Tensor> GeneratorState() => generatorAb.state_dict();
}
