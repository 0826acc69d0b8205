using GanService.Gan.Data;
using GanService.Gan.Imaging;
using GanService.Gan.Models;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>
/// BigGAN, Progressive Growing GAN and StyleGAN: shapes, the mechanism each is known for, learning, resume.
/// </summary>
public class ModernFamilyTests(BuiltOnce<ModernFamilyTests.BigGanRun> bigGan)
    : IClassFixture<BuiltOnce<ModernFamilyTests.BigGanRun>>
{
    private static ModelRecipe Recipe(string family, int channels = 1, int size = 32) =>
        new(
            family,
            ImageSize: size,
            Channels: channels,
            LatentSize: 32,
            Classes: family == ModelRecipe.BigGan ? SyntheticBlobs.Classes : 0
        )
        {
            Width = 8,
        };

    /// <summary>
    /// Each family's own defaults: hinge + orthogonal + EMA (BigGAN), WGAN-GP (ProGAN),
    /// non-saturating + R1 + EMA (StyleGAN).
    /// </summary>
    public static TrainingPlan Plan(string family, int steps, int batch = 16, long seed = 1) =>
        family switch
        {
            ModelRecipe.BigGan => new TrainingPlan(
                Recipe(family),
                new OptimizerRecipe(1e-4, 4e-4, 0, 0.999),
                steps,
                batch,
                "hinge",
                seed
            )
            {
                OrthogonalRegularization = 1e-4,
                EmaDecay = 0.9,
            },
            ModelRecipe.ProGan => new TrainingPlan(
                Recipe(family),
                new OptimizerRecipe(5e-4, 5e-4, 0, 0.99),
                steps,
                batch,
                "wgan-gp",
                seed
            )
            {
                GradientPenalty = 10,
            },
            _ => new TrainingPlan(Recipe(family), new OptimizerRecipe(2e-3, 2e-3, 0, 0.99), steps, batch, "bce", seed)
            {
                R1 = 1,
                R1Every = 16,
                EmaDecay = 0.9,
            },
        };

    public static TheoryData<string> Families => new() { ModelRecipe.BigGan, ModelRecipe.ProGan, ModelRecipe.StyleGan };

    [Theory]
    [MemberData(nameof(Families))]
    public void Networks_have_the_recipes_shapes(string family)
    {
        foreach (var (channels, size) in new[] { (1, 32), (3, 32), (3, 64) })
        {
            var recipe = Recipe(family, channels, size);
            using var g = GanNetworks.Generator(recipe);
            using var d = GanNetworks.Discriminator(recipe);
            using var z = randn(4, recipe.LatentSize);
            using var labels = recipe.Conditional ? tensor(new long[] { 0, 1, 2, 3 }) : null;
            using var images = GanNetworks.Call(g, z, labels);
            Assert.Equal(new long[] { 4, channels, size, size }, images.shape);
            using var scores = GanNetworks.Call(d, images, labels);
            Assert.Equal(new long[] { 4 }, scores.shape);
        }
    }

    [Fact]
    public void Fade_in_blends_the_two_paths_exactly_at_0_and_1()
    {
        using var g = new ProGanGenerator(Recipe(ModelRecipe.ProGan));
        using var rng = new TorchSharp.torch.Generator(3);
        Initialization.Apply(g, rng);
        using var _ = no_grad();
        using var z = randn(4, 32);
        Tensor At(int resolution, double alpha)
        {
            g.SetStage(resolution, alpha);
            return g.call(z);
        }
        using var coarse = At(8, 1);
        using var faded0 = At(16, 0);
        using var faded1 = At(16, 1);
        using var half = At(16, 0.5);
        using var upsampled = nn.functional.interpolate(coarse, scale_factor: [2, 2], mode: InterpolationMode.Nearest);
        Assert.Equal(0, faded0.sub(upsampled).abs().max().item<float>(), 6);
        Assert.True(faded1.sub(upsampled).abs().max().item<float>() > 1e-3, "alpha 1 must be the new block's output");
        Assert.Equal(0, half.sub(upsampled.add(faded1).div(2)).abs().max().item<float>(), 5);
    }

    [Fact]
    public void The_critic_at_alpha_0_sees_exactly_what_the_previous_stage_saw()
    {
        // What the previous stage saw is the image average-pooled.
        using var d = new EqualizedDiscriminator(Recipe(ModelRecipe.ProGan), residual: false);
        using var rng = new TorchSharp.torch.Generator(3);
        Initialization.Apply(d, rng);
        using var _ = no_grad();
        using var x = randn(4, 1, 16, 16);
        d.SetStage(16, 0);
        using var scoreFaded = d.call(x);
        d.SetStage(8, 1);
        using var scoreCoarse = d.call(nn.functional.avg_pool2d(x, 2));
        Assert.Equal(0, scoreFaded.sub(scoreCoarse).abs().max().item<float>(), 5);
    }

    [Fact]
    public void The_schedule_grows_from_4_to_the_target_and_fades_linearly()
    {
        var schedule = new ProgressiveSchedule(Plan(ModelRecipe.ProGan, 100) with { ImagesPerPhase = 160 });
        Assert.Equal((4, 1.0), schedule.At(0));
        Assert.Equal((8, 0.0), schedule.At(10));
        Assert.Equal((8, 0.5), schedule.At(15));
        Assert.Equal((8, 1.0), schedule.At(20));
        Assert.Equal((32, 0.5), schedule.At(55));
        Assert.Equal((32, 1.0), schedule.At(60));
        Assert.Equal((32, 1.0), schedule.At(100_000));
    }

    [Fact]
    public void Demodulated_weights_have_unit_norm_per_output_channel()
    {
        using var conv = new ModulatedConv2d(8, 6, 3, styleSize: 16);
        using var w = randn(5, 16) * 3;
        using var weights = conv.Weights(w); // [5, 6, 8, 3, 3]
        using var norms = weights.square().sum([2, 3, 4]).sqrt();
        Assert.Equal(new long[] { 5, 6 }, norms.shape);
        Assert.True(norms.sub(1).abs().max().item<float>() < 1e-4, norms.ToString(TorchSharp.TensorStringStyle.Numpy));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_modulated_convolution_is_the_convolution_of_each_sample_with_its_own_weights(bool demodulate)
    {
        using var scope = NewDisposeScope();
        var conv = new ModulatedConv2d(8, 6, 3, styleSize: 16, demodulate);
        var x = randn(5, 8, 7, 7);
        var w = randn(5, 16) * 3;
        var y = conv.call(x, w);
        var weights = conv.Weights(w).to(float64); // the definition: [N, out, in, k, k]
        for (int i = 0; i < 5; i++)
        {
            var expected = nn.functional.conv2d(x[i].unsqueeze(0).to(float64), weights[i], padding: [1, 1]);
            double error =
                y[i].unsqueeze(0).to(float64).sub(expected).abs().max().item<double>()
                / expected.abs().max().item<double>();
            Assert.True(error < 1e-5, $"sample {i}: relative error {error:G3}");
        }
    }

    [Fact]
    public void Truncation_at_psi_0_returns_the_average_image()
    {
        using var trainer = GanTrainer.Create(
            Plan(ModelRecipe.StyleGan, 3),
            SyntheticBlobs.Create(32, 1, seed: 2, count: 64),
            CPU
        );
        trainer.Train(3); // the running average of w moves off zero
        using var sampler = GeneratorSampler.Load(trainer.Checkpoint(), CPU);
        var constant = new SamplingControls(Truncation: 0, Noise: NoiseMode.Constant);
        using var a = sampler.Sample(1, 4, controls: constant);
        using var b = sampler.Sample(2, 4, controls: constant);
        Assert.True(a.sub(b).abs().max().item<float>() < 1e-5, "every seed gives the image of the average w");
        using var free = sampler.Sample(1, 4, controls: constant with { Truncation = 1 });
        Assert.True(free[0].sub(free[1]).abs().max().item<float>() > 1e-3, "without truncation seeds differ");
        using var mixed = sampler.Sample(1, 4, controls: new SamplingControls(MixSeed: 2, MixFrom: 4));
        using var again = sampler.Sample(1, 4, controls: new SamplingControls(MixSeed: 2, MixFrom: 4));
        Assert.True(mixed.eq(again).all().item<bool>(), "mixing is deterministic");
    }

    /// <summary>BigGAN trained 30 steps, once for the class, and its checkpoint.</summary>
    public sealed class BigGanRun : IDisposable
    {
        private readonly ImageDataset data = SyntheticBlobs.Create(32, 1, seed: 4, count: 128);
        public GanTrainer Trainer { get; }
        public byte[] Bundle { get; }

        public BigGanRun()
        {
            Trainer = GanTrainer.Create(Plan(ModelRecipe.BigGan, 30), data, CPU);
            Trainer.Train(30);
            Bundle = Trainer.Checkpoint();
        }

        public void Dispose()
        {
            Trainer.Dispose();
            data.Dispose();
        }
    }

    private BigGanRun BigGan => bigGan.Get(() => new BigGanRun());

    [Fact]
    public void Spectral_norm_bounds_every_BigGAN_layer()
    {
        var state = BigGan.Trainer.GeneratorState();
        int checkedLayers = 0;
        foreach (
            var (name, weight) in state.Where(kv => kv.Key.EndsWith(".weight") && state.ContainsKey(kv.Key[..^6] + "u"))
        )
        {
            // Training refines u by one power iteration per forward while the weights move;
            // let it settle on the final ones.
            var u = state[name[..^6] + "u"];
            using (no_grad())
                for (int i = 0; i < 100; i++)
                    SpectralNorm.Normalize(weight, u, training: true).Dispose();
            using var normalized = SpectralNorm.Normalize(weight, u, training: false).flatten(1);
            double largest = linalg.matrix_norm(normalized, ord: 2).item<float>();
            Assert.True(
                Math.Abs(largest - 1) < 0.01,
                $"{name}: largest singular value {largest:F4} after normalisation"
            );
            checkedLayers++;
        }
        Assert.True(checkedLayers >= 10, $"{checkedLayers} spectrally normalised layers");
    }

    [Fact]
    public void BigGAN_truncation_is_deterministic()
    {
        using var sampler = GeneratorSampler.Load(BigGan.Bundle, CPU);
        using var tight = sampler.Sample(5, 8, [2], new SamplingControls(Truncation: 0.5));
        using var tightAgain = sampler.Sample(5, 8, [2], new SamplingControls(Truncation: 0.5));
        using var loose = sampler.Sample(5, 8, [2]);
        Assert.True(tight.eq(tightAgain).all().item<bool>());
        Assert.False(tight.eq(loose).all().item<bool>());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void A_short_run_learns_the_blobs(string family)
    {
        // ProGAN spends most of a short run at the smaller stages, so it gets more steps.
        var plan = Plan(family, family == ModelRecipe.ProGan ? 250 : 150, batch: 32, seed: 6);
        using var data = SyntheticBlobs.Create(32, 1, seed: 6, count: 1024);
        using var trainer = GanTrainer.Create(plan, data, CPU);
        var reports = new List<TrainingProgress>();
        trainer.Train(plan.Steps, new Collect(reports));
        Assert.All(reports, r =>
            Assert.True(double.IsFinite(r.DiscriminatorLoss) && double.IsFinite(r.GeneratorLoss), r.ToString())
        );
        if (family == ModelRecipe.ProGan)
            Assert.Equal([4, 8, 16, 32], reports.Select(r => r.Resolution!.Value).Distinct());
        using var real = data.Batch(Enumerable.Range(0, 256).Select(i => (long)i).ToArray(), CPU);
        using var untrained = GeneratorSampler.Untrained(plan, CPU);
        using var trained = GeneratorSampler.Load(trainer.Checkpoint(), CPU);
        using var before = untrained.Sample(seed: 11, count: 256);
        using var after = trained.Sample(seed: 11, count: 256);
        double distanceBefore = ImageStatistics.HistogramDistance(before, real),
            distanceAfter = ImageStatistics.HistogramDistance(after, real);
        Assert.True(
            distanceAfter < distanceBefore * 0.65,
            $"{family}: histogram distance untrained {distanceBefore:F3}, trained {distanceAfter:F3}"
        );
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void A_resumed_run_continues_identically(string family)
    {
        // ProGAN resumes mid-fade: 16 images a phase, batch 4; the sixth step (20 images shown) trained at alpha 0.25.
        var plan = Plan(family, 8, batch: 4, seed: 9) with { ImagesPerPhase = 16 };
        using var data = SyntheticBlobs.Create(32, 1, seed: 9, count: 64);
        using var straight = GanTrainer.Create(plan, data, CPU);
        straight.Train(8);
        byte[] bundle;
        using (var first = GanTrainer.Create(plan, data, CPU))
        {
            first.Train(6);
            bundle = first.Checkpoint();
        }
        using var resumed = GanTrainer.Resume(bundle, data, CPU);
        if (family == ModelRecipe.ProGan)
        {
            using var sampler = GeneratorSampler.Load(bundle, CPU);
            Assert.Equal((8, 0.25), ((IProgressive)GanNetworksOf(sampler)).Stage);
        }
        resumed.Train(8);
        Assert.Equal(0, TestSupport.MaxDifference(straight.GeneratorState(), resumed.GeneratorState()));
        Assert.Equal(straight.PreviewPng(), resumed.PreviewPng());
    }

    private static nn.Module GanNetworksOf(GeneratorSampler sampler) => sampler.Network;

    private sealed class Collect(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
