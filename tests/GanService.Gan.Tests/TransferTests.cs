using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>Continuing a run past its planned end, and starting a run from another run's weights.</summary>
public class TransferTests
{
    [Fact]
    public void A_run_continued_past_its_end_matches_one_planned_that_long()
    {
        using var data = SyntheticBlobs.Create(28, 1, seed: 3, count: 128);
        using var straight = GanTrainer.Create(TestSupport.Plan(steps: 12, batch: 16, seed: 3), data, CPU);
        straight.Train(12);

        byte[] ended;
        using (var shorter = GanTrainer.Create(TestSupport.Plan(steps: 6, batch: 16, seed: 3), data, CPU))
        {
            shorter.Train(100);
            Assert.Equal(6, shorter.Step);
            ended = shorter.Checkpoint();
        }
        using var continued = GanTrainer.Resume(ended, data, CPU);
        continued.ContinueTo(12);
        continued.Train(100);

        Assert.Equal(12, continued.Step);
        Assert.Equal(straight.Plan, continued.Plan);
        foreach (var entry in EntriesBesidesManifest(straight.Checkpoint()))
            Assert.True(
                Entry(straight.Checkpoint(), entry).SequenceEqual(Entry(continued.Checkpoint(), entry)),
                $"{entry} differs from the straight run's"
            );
    }

    [Fact]
    public void A_progressive_run_continued_keeps_the_growth_it_trained_and_stays_grown()
    {
        var plan = TestSupport.Plan(steps: 40, size: 32) with
        {
            Model = new ModelRecipe(ModelRecipe.ProGan, 32, 1, 16),
        };
        var first = new ProgressiveSchedule(plan);
        var longer = new ProgressiveSchedule(plan.Continued(400));

        for (long step = 0; step <= 40; step++)
            Assert.Equal(first.At(step), longer.At(step));
        Assert.Equal((32, 1.0), longer.At(400));
        Assert.Equal(400, plan.Continued(400).Steps);
    }

    [Fact]
    public void A_fresh_run_takes_another_runs_networks_and_keeps_its_own_optimizers()
    {
        using var blobs = SyntheticBlobs.Create(28, 1, seed: 1, count: 64);
        using var source = GanTrainer.Create(TestSupport.Plan(steps: 3, batch: 16, seed: 1), blobs, CPU);
        source.Train(3);
        var sourceBundle = source.Checkpoint();

        // Another dataset of the same shape, another seed, and a moving average the source did not keep.
        using var other = SyntheticBlobs.Create(28, 1, seed: 9, count: 64);
        var plan = TestSupport.Plan(steps: 3, batch: 16, seed: 2) with { EmaDecay = 0.99 };
        using var fresh = GanTrainer.Create(plan, other, CPU);
        var freshBundle = fresh.Checkpoint();
        using var tuned = GanTrainer.Create(plan, other, CPU);
        tuned.InitializeFrom(sourceBundle, CheckpointBundle.Sha256(sourceBundle));
        var tunedBundle = tuned.Checkpoint();

        Assert.Equal(Entry(sourceBundle, CheckpointEntries.Generator), Entry(tunedBundle, CheckpointEntries.Generator));
        Assert.Equal(
            Entry(sourceBundle, CheckpointEntries.Discriminator),
            Entry(tunedBundle, CheckpointEntries.Discriminator)
        );
        Assert.Equal(Entry(sourceBundle, CheckpointEntries.Generator), Entry(tunedBundle, CheckpointEntries.Ema));
        Assert.Equal(
            Entry(freshBundle, CheckpointEntries.GeneratorOptimizer),
            Entry(tunedBundle, CheckpointEntries.GeneratorOptimizer)
        );
        Assert.Equal(Entry(freshBundle, CheckpointEntries.Rng), Entry(tunedBundle, CheckpointEntries.Rng));
        Assert.Equal(3, tuned.Train(3));
    }

    [Fact]
    public void Weights_of_another_architecture_are_refused_naming_each_difference()
    {
        using var blobs = SyntheticBlobs.Create(28, 1, seed: 1, count: 64);
        using var source = GanTrainer.Create(TestSupport.Plan(steps: 1, batch: 16), blobs, CPU);
        var plan = TestSupport.Plan(steps: 1, batch: 16);
        plan = plan with { Model = plan.Model with { LatentSize = 32, Normalization = ModelRecipe.SpectralNorm } };
        using var target = GanTrainer.Create(plan, blobs, CPU);

        var refused = Assert.Throws<ArgumentException>(() => target.InitializeFrom(source.Checkpoint()));

        Assert.Contains("model.latentSize", refused.Message);
        Assert.Contains("model.normalization", refused.Message);
        Assert.Equal(
            ["model.latentSize", "model.normalization"],
            plan.Model.ArchitectureDifferences(source.Plan.Model).Select(d => d.Field)
        );
    }

    private static byte[] Entry(byte[] bundle, string name)
    {
        using var reader = CheckpointBundle.Open(bundle);
        using var stream = reader.Entry(name);
        return ((MemoryStream)stream).ToArray();
    }

    private static IEnumerable<string> EntriesBesidesManifest(byte[] bundle)
    {
        using var reader = CheckpointBundle.Open(bundle);
        return reader.Manifest.Entries.Keys.ToList();
    }
}
