using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Imaging;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Sampling;

/// <summary>An image-to-image generator loaded from a checkpoint, in eval mode, for translating images.</summary>
public sealed class TranslationSampler : ILoadedNetwork
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

    /// <summary>What the loaded generator holds in memory.</summary>
    public long Bytes => bytes ??= NetworkBytes.Of(generator);

    private long? bytes;

    /// <summary>Loads the A-to-B generator, or for CycleGAN with <paramref name="backward"/> the B-to-A one.</summary>
    public static TranslationSampler Load(
        byte[] bundle,
        Device device,
        string? expectedSha256 = null,
        bool backward = false
    )
    {
        using var reader = CheckpointBundle.Open(bundle, expectedSha256);
        return Load(reader, device, backward);
    }

    /// <summary>Loads from an opened bundle, reading only the entry of the generator asked for.</summary>
    public static TranslationSampler Load(CheckpointReader reader, Device device, bool backward = false)
    {
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

    /// <summary>
    /// One image, as the decoder gives it (bytes, channels x side x side at the model's size), translated and
    /// encoded as a PNG.
    /// </summary>
    public byte[] TranslateToPng(byte[] pixels)
    {
        var model = Plan.Model;
        using var input = new ImageDataset("input", pixels, 1, model.Channels, model.ImageSize);
        using var batch = input.Batch([0], CPU);
        using var output = Translate(batch);
        return ImageGrid.EncodePng(output, 1, padding: 0);
    }

    public void Dispose() => generator.Dispose();
}
