using GanService.Gan.Checkpoints;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Sampling;

/// <summary>An image-to-image generator loaded from a checkpoint, in eval mode, for translating images.</summary>
public sealed class TranslationSampler : IDisposable
{
    private readonly nn.Module generator;
    private readonly Device device;

    private TranslationSampler(TrainingPlan plan, nn.Module generator, Device device)
    {
        Plan = plan;
        this.generator = generator;
        this.device = device;
    }

    public TrainingPlan Plan { get; }

    /// <summary>Loads the A-to-B generator, or for CycleGAN with <paramref name="backward"/> the B-to-A one.</summary>
    public static TranslationSampler Load(
        byte[] bundle,
        Device device,
        string? expectedSha256 = null,
        bool backward = false
    )
    {
        using var reader = CheckpointBundle.Open(bundle, expectedSha256);
        var model = reader.Manifest.Plan.Model;
        var family = ModelFamily.Of(model);
        if (!family.Translates)
            throw new ArgumentException("This checkpoint is not of an image-to-image family.");
        if (backward && !family.TranslatesBothWays)
            throw new ArgumentException("Only CycleGAN translates both ways.");
        var generator = GanNetworks.Generator(model);
        try
        {
            generator.load(reader.Entry(backward ? CheckpointEntries.GeneratorBa : CheckpointEntries.Generator));
            generator.to(device);
            generator.eval();
            return new TranslationSampler(reader.Manifest.Plan, generator, device);
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }

    /// <summary>Images [N, C, H, W] in [-1, 1] at the model's size, translated, on the CPU.</summary>
    public Tensor Translate(Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return GanNetworks.Call(generator, images.to(device), null).cpu().MoveToOuterDisposeScope();
    }

    public void Dispose() => generator.Dispose();
}
