using System.Diagnostics;
using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Imaging;
using GanService.Gan.Losses;
using GanService.Gan.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Training;

/// <summary>
/// The course's alternating loop over a <see cref="TrainingPlan"/>: a real batch and a fake batch update D, then
/// fresh fakes update G through the frozen D. One dispose scope per step; all randomness comes from one seeded
/// generator whose state travels in the checkpoint, so a resumed run continues exactly as if never stopped.
/// </summary>
public sealed class GanTrainer : IDisposable
{
    private const string GeneratorEntry = "generator.bin", DiscriminatorEntry = "discriminator.bin";
    private const string GeneratorOptimizerEntry = "optimizer-generator.bin", DiscriminatorOptimizerEntry = "optimizer-discriminator.bin";
    private const string RngEntry = "rng.bin", PreviewEntry = "preview-latents.bin";

    private readonly ImageDataset data;
    private readonly Device device;
    private readonly nn.Module<Tensor, Tensor> generator;
    private readonly nn.Module<Tensor, Tensor> discriminator;
    private readonly Adam generatorOptimizer;
    private readonly Adam discriminatorOptimizer;
    private readonly IAdversarialLoss loss;
    private readonly BatchSampler sampler;
    private readonly BatchPrefetcher batches;
    private readonly torch.Generator rng;
    private readonly Tensor previewLatents;

    private GanTrainer(TrainingPlan plan, ImageDataset data, Device device)
    {
        if (data.Channels != plan.Model.Channels || data.ImageSize != plan.Model.ImageSize)
            throw new ArgumentException(
                $"The data is {data.ImageSize}x{data.ImageSize}x{data.Channels} but the model wants {plan.Model.ImageSize}x{plan.Model.ImageSize}x{plan.Model.Channels}.",
                nameof(data));
        Plan = plan;
        this.data = data;
        this.device = device;
        loss = AdversarialLosses.Create(plan.Loss);
        sampler = new BatchSampler(plan.Seed, data.Count, plan.BatchSize);
        batches = new BatchPrefetcher(data, sampler, device, plan.Steps);
        rng = new torch.Generator((ulong)plan.Seed);
        generator = GanNetworks.Generator(plan.Model);
        discriminator = GanNetworks.Discriminator(plan.Model);
        Dcgan.Initialize(generator, rng);
        Dcgan.Initialize(discriminator, rng);
        generator.to(device);
        discriminator.to(device);
        var o = plan.Optimizer;
        generatorOptimizer = optim.Adam(generator.parameters(), o.GeneratorLearningRate, o.Beta1, o.Beta2);
        discriminatorOptimizer = optim.Adam(discriminator.parameters(), o.DiscriminatorLearningRate, o.Beta1, o.Beta2);
        using var previewRng = new torch.Generator((ulong)plan.Seed ^ 0x9E3779B97F4A7C15UL);
        previewLatents = randn([plan.PreviewCount, plan.Model.LatentSize], generator: previewRng);
    }

    public TrainingPlan Plan { get; }
    public long Step { get; private set; }
    public bool Finished => Step >= Plan.Steps;
    public long GeneratorParameters => GanNetworks.ParameterCount(generator);
    public long DiscriminatorParameters => GanNetworks.ParameterCount(discriminator);

    /// <summary>A fresh run: networks initialised N(0, 0.02) from the plan's seed.</summary>
    public static GanTrainer Create(TrainingPlan plan, ImageDataset data, Device device) => new(plan, data, device);

    /// <summary>Continues from a checkpoint bundle (its SHA-256 checked when given).</summary>
    public static GanTrainer Resume(byte[] bundle, ImageDataset data, Device device, string? expectedSha256 = null)
    {
        using var reader = CheckpointBundle.Open(bundle, expectedSha256);
        var trainer = new GanTrainer(reader.Manifest.Plan, data, device);
        try
        {
            trainer.generator.load(reader.Entry(GeneratorEntry));
            trainer.discriminator.load(reader.Entry(DiscriminatorEntry));
            trainer.generatorOptimizer.load_state_dict(new BinaryReader(reader.Entry(GeneratorOptimizerEntry)));
            trainer.discriminatorOptimizer.load_state_dict(new BinaryReader(reader.Entry(DiscriminatorOptimizerEntry)));
            using (var state = Tensor.Load(reader.Entry(RngEntry))) trainer.rng.set_state(state);
            using (var latents = Tensor.Load(reader.Entry(PreviewEntry))) trainer.previewLatents.copy_(latents);
            trainer.Step = reader.Manifest.Step;
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

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
            done++;
            progress?.Report(report);
        }
        return done;
    }

    private TrainingProgress TrainStep()
    {
        var clock = Stopwatch.StartNew();
        // Built on another thread, so outside this step's dispose scope: disposed here.
        using var real = batches.Take(Step);
        using var scope = NewDisposeScope();

        discriminatorOptimizer.zero_grad();
        var fake = generator.call(Latents());
        var realLogits = discriminator.call(real);
        var fakeLogits = discriminator.call(fake.detach());
        var discriminatorLoss = loss.Discriminator(realLogits, fakeLogits);
        discriminatorLoss.backward();
        discriminatorOptimizer.step();

        Freeze(discriminator, true);
        generatorOptimizer.zero_grad();
        var generatorLoss = loss.Generator(discriminator.call(generator.call(Latents())));
        generatorLoss.backward();
        generatorOptimizer.step();
        Freeze(discriminator, false);

        double dLoss = discriminatorLoss.item<float>(), gLoss = generatorLoss.item<float>();
        if (!double.IsFinite(dLoss) || !double.IsFinite(gLoss))
            throw new TrainingDivergedException(Step + 1, $"discriminator loss {dLoss}, generator loss {gLoss}");
        double realScore = realLogits.detach().sigmoid().mean().item<float>();
        double fakeScore = fakeLogits.detach().sigmoid().mean().item<float>();
        long epoch = sampler.EpochOf(Step);
        Step++;
        return new TrainingProgress(Step, Plan.Steps, epoch, dLoss, gLoss, realScore, fakeScore,
            Plan.BatchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), batches.LastWait.TotalMilliseconds);
    }

    private Tensor Latents() => randn([Plan.BatchSize, Plan.Model.LatentSize], generator: rng).to(device);

    private static void Freeze(nn.Module module, bool frozen)
    {
        foreach (var parameter in module.parameters()) parameter.requires_grad = !frozen;
    }

    /// <summary>The generator's images for the fixed preview latents, as a PNG grid (eval mode, no grad).</summary>
    public byte[] PreviewPng(int columns = 4)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        generator.eval();
        try
        {
            return ImageGrid.EncodePng(generator.call(previewLatents.to(device)), columns);
        }
        finally
        {
            generator.train();
        }
    }

    /// <summary>Serialises everything a resume needs into one bundle.</summary>
    public byte[] Checkpoint()
    {
        var manifest = new CheckpointManifest(CheckpointBundle.Format, Plan, Step, sampler.EpochOf(Math.Max(Step - 1, 0)), DateTimeOffset.UtcNow);
        return CheckpointBundle.Write(manifest,
        [
            (GeneratorEntry, s => Write(s, w => generator.save(w))),
            (DiscriminatorEntry, s => Write(s, w => discriminator.save(w))),
            (GeneratorOptimizerEntry, s => Write(s, generatorOptimizer.save_state_dict)),
            (DiscriminatorOptimizerEntry, s => Write(s, discriminatorOptimizer.save_state_dict)),
            (RngEntry, s => { using var state = rng.get_state(); Write(s, state.Save); }),
            (PreviewEntry, s => Write(s, previewLatents.Save)),
        ]);
    }

    // TorchSharp's Stream overloads close the stream; a BinaryWriter left open does not.
    private static void Write(Stream stream, Action<BinaryWriter> write)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        write(writer);
        writer.Flush();
    }

    /// <summary>The generator's weights, for comparing runs.</summary>
    public IReadOnlyDictionary<string, Tensor> GeneratorState() => generator.state_dict();

    internal static string GeneratorEntryName => GeneratorEntry;

    public void Dispose()
    {
        batches.Dispose();
        generator.Dispose();
        discriminator.Dispose();
        generatorOptimizer.Dispose();
        discriminatorOptimizer.Dispose();
        previewLatents.Dispose();
        rng.Dispose();
    }
}
