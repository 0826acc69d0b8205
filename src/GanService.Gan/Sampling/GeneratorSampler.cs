using GanService.Gan.Checkpoints;
using GanService.Gan.Imaging;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Sampling;

/// <summary>
/// A generator loaded from a checkpoint, in eval mode, for sampling. Latents come from a generator seeded per
/// request, so the same seed and count always give the same images.
/// </summary>
public sealed class GeneratorSampler : IDisposable
{
    private readonly nn.Module generator;
    private readonly Device device;
    private readonly Lock gate = new();

    private GeneratorSampler(TrainingPlan plan, long step, nn.Module generator, Device device)
    {
        Plan = plan;
        Step = step;
        this.generator = generator;
        this.device = device;
    }

    public TrainingPlan Plan { get; }
    public long Step { get; }

    public static GeneratorSampler Load(byte[] bundle, Device device, string? expectedSha256 = null)
    {
        using var reader = CheckpointBundle.Open(bundle, expectedSha256);
        var generator = GanNetworks.Generator(reader.Manifest.Plan.Model);
        try
        {
            // The moving average, where the run kept one, samples better than the raw weights.
            generator.load(reader.Entry(reader.Manifest.Plan.EmaDecay > 0 ? GanTrainer.EmaEntry : GanTrainer.GeneratorEntry));
            generator.to(device);
            generator.eval();
            return new GeneratorSampler(reader.Manifest.Plan, reader.Manifest.Step, generator, device);
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    /// <summary>An untrained generator for a recipe, initialised from a seed: the baseline to compare against.</summary>
    public static GeneratorSampler Untrained(TrainingPlan plan, Device device)
    {
        var generator = GanNetworks.Generator(plan.Model);
        using var rng = new torch.Generator((ulong)plan.Seed);
        Dcgan.Initialize(generator, rng);
        generator.to(device);
        generator.eval();
        return new GeneratorSampler(plan, 0, generator, device);
    }

    public bool Conditional => Plan.Model.Conditional;

    /// <summary>
    /// <paramref name="count"/> images [N, C, H, W] in [-1, 1] on the CPU for one seed. A conditional generator
    /// draws image i of class labels[i % labels.Length], or of class i % classes when no labels are given.
    /// </summary>
    public Tensor Sample(long seed, int count, IReadOnlyList<int>? labels = null)
    {
        if (labels is { Count: > 0 } && !Conditional) throw new ArgumentException("This generator is not class-conditional.", nameof(labels));
        using var rng = new torch.Generator((ulong)seed);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var latents = randn([count, Plan.Model.LatentSize], generator: rng).to(device);
        Tensor? classes = !Conditional ? null
            : labels is { Count: > 0 } ? tensor(Enumerable.Range(0, count).Select(i => (long)labels[i % labels.Count]).ToArray()).to(device)
            : GanTrainer.PreviewLabels(count, Plan.Model.Classes).to(device);
        lock (gate)
        {
            return GanNetworks.Call(generator, latents, classes).cpu().MoveToOuterDisposeScope();
        }
    }

    /// <summary>A PNG grid of samples; with one image and no padding, just that image.</summary>
    public byte[] SamplePng(long seed, int count, int columns, int padding = ImageGrid.DefaultPadding, IReadOnlyList<int>? labels = null)
    {
        using var images = Sample(seed, count, labels);
        return ImageGrid.EncodePng(images, columns, padding);
    }

    public void Dispose() => generator.Dispose();
}
