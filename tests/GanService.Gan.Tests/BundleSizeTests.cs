using System.Diagnostics;
using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>
/// A plan's bundle size is known before training: never below the bundle its trainer writes, at most 2% above it
/// (the allowances for headers and the manifest; CycleGAN's image pools, counted full, fill as it trains), and found
/// for networks far too large to build from small probes that give their exact tensor counts.
/// </summary>
public class BundleSizeTests
{
    public static TheoryData<string, int, int, int, int, int> SmallShapes =>
        new()
        {
            // family, image size, channels, width, latent size, classes
            { "dcgan", 28, 1, 16, 100, 0 },
            { "dcgan", 64, 3, 16, 500, 0 },
            { "conditional-dcgan", 32, 3, 16, 8, 4 },
            { "conditional-dcgan", 28, 1, 16, 100, 12 },
            { "biggan", 32, 3, 8, 16, 4 },
            { "biggan", 64, 1, 12, 500, 10 },
            { "progan", 32, 1, 8, 16, 0 },
            { "progan", 32, 3, 72, 64, 0 },
            { "stylegan", 32, 3, 8, 16, 0 },
            { "stylegan", 32, 1, 66, 490, 0 },
            { "pix2pix", 64, 3, 16, 100, 0 },
            { "cyclegan", 64, 1, 16, 100, 0 },
        };

    [Theory]
    [MemberData(nameof(SmallShapes))]
    public void The_estimate_is_at_least_the_bundle_a_trainer_writes_and_at_most_2_percent_more(
        string name,
        int size,
        int channels,
        int width,
        int latent,
        int classes
    )
    {
        var family = ModelFamily.Find(name);
        var model = new ModelRecipe(
            name,
            size,
            channels,
            latent,
            classes,
            family.Defaults.FixedNormalization ?? "batch"
        )
        {
            Width = width,
            AttentionResolution = family.Defaults.AttentionResolution,
        };
        var plan = new TrainingPlan(model, new OptimizerRecipe(), 2, 2, family.Defaults.Loss, Seed: 3)
        {
            EmaDecay = family.Defaults.Ema,
        };
        using var images = SyntheticBlobs.Create(size, channels, seed: 3, count: 4);
        using var trainer = Trainers.Create(
            plan,
            family.Translates ? new TrainingData(images, images) : new TrainingData(images),
            CPU
        );
        trainer.Train(1);
        long written = trainer.Checkpoint().LongLength;

        long estimate = BundleSize.Estimate(plan);

        Assert.InRange(estimate, written, written + written / 50);
    }

    [Fact]
    public void A_network_too_large_to_build_is_sized_exactly_from_small_probes()
    {
        // Element counts (all state / parameters) of these networks built on TorchSharp's meta device, which sizes
        // tensors without storing them; it cannot serve the service, whose default device is process-wide.
        var styleGan = new ModelRecipe("stylegan", 256, 3, 512, Normalization: "none")
        {
            Width = 512,
            MappingLayers = 8,
        };
        var bigGan = new ModelRecipe("biggan", 128, 3, 1000, 1000, "spectral")
        {
            Width = 301,
            AttentionResolution = 64,
        };
        var clock = Stopwatch.StartNew();

        var (g, d) = NetworkShapes.Of(styleGan);
        var (bigG, bigD) = NetworkShapes.Of(bigGan);

        Assert.Equal((241_037_341, 240_862_093), (g.StateElements, g.ParameterElements));
        Assert.Equal((304_706_435, 304_706_433), (d.StateElements, d.ParameterElements));
        Assert.Equal((75_522_823, 75_460_433), (bigG.StateElements, bigG.ParameterElements));
        Assert.Equal((82_624_048, 82_609_977), (bigD.StateElements, bigD.ParameterElements));
        // Built, these would hold 2.8 GB; the probes are a few megabytes and take well under the bound.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void The_estimate_grows_with_the_width_as_the_square_of_the_channels_and_is_cached()
    {
        TrainingPlan Plan(int width) =>
            new(new ModelRecipe("stylegan", 256, 3, 64, Normalization: "none") { Width = width }, new(), 1)
            {
                EmaDecay = 0.99,
            };
        long narrow = BundleSize.Estimate(Plan(256));
        long wide = BundleSize.Estimate(Plan(512));

        // G, its EMA and D as floats, and Adam's two moments of G's and D's parameters: 5 copies of nearly all.
        var (g, d) = NetworkShapes.Of(Plan(512).Model);
        Assert.InRange(
            wide - 4 * (2 * g.StateElements + d.StateElements + 2 * (g.ParameterElements + d.ParameterElements)),
            0,
            1 << 20
        );
        Assert.InRange(wide / (double)narrow, 3.9, 4.0);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 100; i++)
            BundleSize.Estimate(Plan(300 + i));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }
}
