using GanService.Gan.Data;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>
/// Every loss and regulariser trains; the conditional DCGAN learns its classes; everything resumes exactly.
/// </summary>
public class FamilyTrainingTests
{
    public static TheoryData<string, string, int, double, double, double, string> Variants =>
        new()
        {
            { "bce-minimax", "batch", 1, 0, 0, 0, "" },
            { "lsgan", "batch", 1, 0, 0, 0.99, "" },
            { "wgan-gp", "none", 5, 10, 0, 0, "" },
            { "hinge", "spectral", 1, 0, 0, 0, "translation,cutout,color" },
            { "bce", "batch", 1, 0, 10, 0, "" },
        };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Each_variant_trains_with_finite_losses(
        string loss,
        string norm,
        int critic,
        double gp,
        double r1,
        double ema,
        string augment
    )
    {
        var plan = new TrainingPlan(new ModelRecipe(Normalization: norm), new OptimizerRecipe(), 3, 16, loss, Seed: 2)
        {
            CriticSteps = critic,
            GradientPenalty = gp,
            R1 = r1,
            EmaDecay = ema,
            Augment = augment,
        };
        using var data = SyntheticBlobs.Create(28, 1, seed: 2, count: 256);
        using var trainer = GanTrainer.Create(plan, data, CPU);
        var reports = new List<TrainingProgress>();
        trainer.Train(3, new Collect(reports));
        Assert.Equal(3, reports.Count);
        Assert.All(reports, r =>
            Assert.True(double.IsFinite(r.DiscriminatorLoss) && double.IsFinite(r.GeneratorLoss), $"{loss}: {r}")
        );
        using var sampler = GeneratorSampler.Load(trainer.Checkpoint(), CPU);
        using var images = sampler.Sample(1, 4);
        Assert.True(images.isfinite().all().item<bool>());
    }

    [Fact]
    public void A_conditional_run_with_every_option_resumes_exactly()
    {
        var plan = new TrainingPlan(
            new ModelRecipe(ModelRecipe.ConditionalDcgan, Classes: 4, Normalization: "none"),
            new OptimizerRecipe(),
            8,
            8,
            "wgan-gp",
            Seed: 5
        )
        {
            CriticSteps = 2,
            GradientPenalty = 10,
            EmaDecay = 0.9,
            Augment = "translation",
        };
        using var data = SyntheticBlobs.Create(28, 1, seed: 5, count: 128);
        using var straight = GanTrainer.Create(plan, data, CPU);
        straight.Train(8);
        byte[] bundle;
        using (var first = GanTrainer.Create(plan, data, CPU))
        {
            first.Train(3);
            bundle = first.Checkpoint();
        }
        using var resumed = GanTrainer.Resume(bundle, data, CPU);
        resumed.Train(8);
        Assert.Equal(0, TestSupport.MaxDifference(straight.GeneratorState(), resumed.GeneratorState()));
        using var a = GeneratorSampler.Load(straight.Checkpoint(), CPU);
        using var b = GeneratorSampler.Load(resumed.Checkpoint(), CPU);
        using var sa = a.Sample(3, 4, [1]);
        using var sb = b.Sample(3, 4, [1]);
        Assert.True(sa.eq(sb).all().item<bool>()); // the EMA generator resumed too
    }

    [Fact]
    public void A_conditional_dcgan_draws_the_asked_class()
    {
        // Class = quadrant of the disc. After training, the bright mass of class c samples sits in quadrant c.
        var plan = new TrainingPlan(
            new ModelRecipe(ModelRecipe.ConditionalDcgan, Classes: SyntheticBlobs.Classes),
            new OptimizerRecipe(),
            300,
            64,
            Seed: 7
        );
        using var data = SyntheticBlobs.Create(28, 1, seed: 7);
        using var trainer = GanTrainer.Create(plan, data, CPU);
        trainer.Train(plan.Steps);
        using var sampler = GeneratorSampler.Load(trainer.Checkpoint(), CPU);
        int correct = 0;
        for (int c = 0; c < SyntheticBlobs.Classes; c++)
        {
            using var images = sampler.Sample(seed: 100 + c, count: 32, [c]);
            using var bright = images.add(1).div(2); // [0, 1]
            var quadrants = new[]
            {
                bright[.., 0, ..14, ..14],
                bright[.., 0, ..14, 14..],
                bright[.., 0, 14.., ..14],
                bright[.., 0, 14.., 14..],
            }
                .Select(q => q.mean([1, 2]))
                .ToArray();
            using var mass = stack(quadrants, 1); // [32, 4]
            correct += (int)mass.argmax(1).eq(c).sum().item<long>();
        }
        Assert.True(correct >= 0.7 * 4 * 32, $"{correct} of 128 samples put their disc in the asked quadrant");
    }

    private sealed class Collect(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
