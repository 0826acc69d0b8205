using System.IO.Compression;
using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Imaging;
using GanService.Gan.Models;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>
/// Checkpoints outlive the code that wrote them. <c>Fixtures/Checkpoints</c> holds bundles written by an earlier
/// version of the library (a whole DCGAN bundle; for the other families the manifest and the generator entries that
/// sampling reads), the PNG that version sampled from each, and every family's entry names and network parameter
/// names: a change that renames a layer or an entry breaks every stored job, and fails here first.
/// </summary>
public class CheckpointCompatibilityTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Checkpoints");

    public static TheoryData<string> SampledFamilies =>
        new() { "dcgan", "conditional-dcgan", "biggan", "progan", "stylegan" };

    [Theory]
    [MemberData(nameof(SampledFamilies))]
    public void A_stored_checkpoint_samples_the_same_png_bytes_as_the_version_that_wrote_it(string family)
    {
        var bundle = File.ReadAllBytes(Path.Combine(Fixtures, family + ".ckpt"));
        using var sampler = GeneratorSampler.Load(bundle, CPU);
        using var images = sampler.Sample(5, 4);
        Assert.Equal(File.ReadAllBytes(Path.Combine(Fixtures, family + ".png")), ImageGrid.EncodePng(images, 4));
    }

    [Fact]
    public void A_stored_dcgan_checkpoint_resumes_every_network_optimizer_and_random_state()
    {
        var bundle = File.ReadAllBytes(Path.Combine(Fixtures, "dcgan.ckpt"));
        using var data = SyntheticBlobs.Create(28, 1, seed: 11, count: 32);
        using var trainer = Trainers.Resume(bundle, new TrainingData(data), CPU);
        Assert.Equal(2, trainer.Step);
        using var preview = TestSupport.DecodePng(trainer.PreviewPng());
        Assert.Equal(ImageGrid.Size(16, 4, 28), (preview.Width, preview.Height));
    }

    public static TheoryData<string> AllFamilies =>
        new() { "dcgan", "conditional-dcgan", "biggan", "progan", "stylegan", "pix2pix", "cyclegan" };

    [Theory]
    [MemberData(nameof(AllFamilies))]
    public void Every_family_writes_the_checkpoint_entries_and_parameter_names_stored_jobs_hold(string family)
    {
        var expected = Snapshot()[family];
        var plan = Plans[family];
        var model = plan.Model;
        using var images = SyntheticBlobs.Create(model.ImageSize, model.Channels, seed: plan.Seed, count: 8);
        var data = model.Translation ? new TrainingData(images, images) : new TrainingData(images);
        using var trainer = Trainers.Create(plan, data, CPU);
        trainer.Train(1);
        using var zip = new ZipArchive(new MemoryStream(trainer.Checkpoint()));
        Assert.Equal(expected["entries"], zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
        using var generator = GanNetworks.Generator(model);
        using var discriminator = GanNetworks.Discriminator(model);
        Assert.Equal(expected["generator"], Names(generator));
        Assert.Equal(expected["discriminator"], Names(discriminator));
    }

    private static IEnumerable<string> Names(nn.Module network) =>
        network
            .state_dict()
            .Select(kv => kv.Key + "=" + string.Join("x", kv.Value.shape))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// entries.txt: a <c>[family]</c> line, then <c>entries:</c>, <c>generator:</c> and <c>discriminator:</c> lines.
    /// </summary>
    private static Dictionary<string, Dictionary<string, IEnumerable<string>>> Snapshot()
    {
        var families = new Dictionary<string, Dictionary<string, IEnumerable<string>>>();
        Dictionary<string, IEnumerable<string>>? current = null;
        foreach (var line in File.ReadLines(Path.Combine(Fixtures, "entries.txt")))
        {
            if (line.StartsWith('['))
                families[line.Trim('[', ']')] = current = [];
            else if (line.Split(": ", 2) is [var key, var values] && current is not null)
                current[key] = values.Split(' ').Order(StringComparer.Ordinal).ToArray();
        }
        return families;
    }

    /// <summary>The recipes the fixtures were written with.</summary>
    private static readonly Dictionary<string, TrainingPlan> Plans = new()
    {
        ["dcgan"] = new(new ModelRecipe(LatentSize: 8), new OptimizerRecipe(), 1, 4, Seed: 11) { EmaDecay = 0.9 },
        ["conditional-dcgan"] = new(
            new ModelRecipe(ModelRecipe.ConditionalDcgan, 32, 3, 8, Classes: 4),
            new OptimizerRecipe(),
            1,
            4,
            Seed: 12
        ),
        ["biggan"] = new(
            new ModelRecipe(ModelRecipe.BigGan, 32, 3, 16, Classes: 4, Normalization: ModelRecipe.SpectralNorm)
            {
                Width = 8,
                AttentionResolution = 16,
            },
            new OptimizerRecipe(1e-4, 4e-4, 0, 0.999),
            1,
            4,
            "hinge",
            Seed: 13
        )
        {
            EmaDecay = 0.99,
            OrthogonalRegularization = 1e-4,
        },
        ["progan"] = new(
            new ModelRecipe(ModelRecipe.ProGan, 32, 1, 16, Normalization: ModelRecipe.NoNorm) { Width = 8 },
            new OptimizerRecipe(5e-4, 5e-4, 0, 0.99),
            1,
            4,
            "wgan-gp",
            Seed: 14
        )
        {
            GradientPenalty = 10,
            ImagesPerPhase = 4,
        },
        ["stylegan"] = new(
            new ModelRecipe(ModelRecipe.StyleGan, 32, 3, 16, Normalization: ModelRecipe.NoNorm)
            {
                Width = 8,
                MappingLayers = 2,
            },
            new OptimizerRecipe(2e-3, 2e-3, 0, 0.99),
            1,
            4,
            Seed: 15
        )
        {
            R1 = 1,
            R1Every = 2,
            EmaDecay = 0.99,
        },
        ["pix2pix"] = new(new ModelRecipe(ModelRecipe.Pix2Pix, 64, 3), new OptimizerRecipe(), 1, 1, Seed: 16),
        ["cyclegan"] = new(
            new ModelRecipe(ModelRecipe.CycleGan, 64, 3),
            new OptimizerRecipe(),
            1,
            1,
            "lsgan",
            Seed: 17
        ),
    };
}
