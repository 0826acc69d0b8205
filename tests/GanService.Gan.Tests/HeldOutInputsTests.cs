using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Quality;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>
/// Translation runs keep the tail of their inputs out of training, and their evaluations translate only that tail.
/// </summary>
public class HeldOutInputsTests
{
    [Theory]
    [InlineData(512, 4, 51)]
    [InlineData(20_000, 64, 512)]
    [InlineData(40, 4, 4)]
    [InlineData(39, 4, 0)] // three would be too few to score
    [InlineData(44, 41, 0)] // holding four out would leave less than a batch
    public void A_tenth_of_the_inputs_is_held_out_where_enough_remain(int items, int batch, int held) =>
        Assert.Equal(held, HeldOutInputs.Count(items, batch));

    [Fact]
    public void A_pix2pix_run_holding_inputs_out_trains_as_if_they_were_not_there()
    {
        var all = Pix2PixTests.Inversion(40);
        var first = new TrainingData(Head(all.Images, 36), Head(all.Targets!, 36));
        var plan = new TrainingPlan(new ModelRecipe(ModelRecipe.Pix2Pix, 64, 3), new OptimizerRecipe(), 10, 4, Seed: 5);

        var holding = Generator(plan with { HoldOut = true }, all);
        Assert.Equal(Generator(plan, first), holding);
        Assert.NotEqual(Generator(plan, all), holding);
    }

    [Fact]
    public void CycleGan_batches_of_domain_a_never_draw_the_held_out_tail()
    {
        using var a = SyntheticBlobs.Create(32, 3, seed: 1, count: 40);
        using var b = SyntheticBlobs.Create(32, 3, seed: 2, count: 40);
        using var head = Head(a, 36);
        using var holding = new DomainBatches(a, b, paired: false, seed: 7, batchSize: 4, trainingA: 36);
        using var without = new DomainBatches(head, b, paired: false, seed: 7, batchSize: 4);
        for (long step = 0; step < 30; step++) // over three epochs of the 36
        {
            using var scope = NewDisposeScope();
            var (x, y) = holding.Batch(step, CPU);
            var (u, v) = without.Batch(step, CPU);
            Assert.True(x.equal(u).all().item<bool>() && y.equal(v).all().item<bool>(), $"step {step}");
        }
    }

    [Fact]
    public void Evaluations_translate_distinct_held_out_inputs_only()
    {
        var plan = new TrainingPlan(new ModelRecipe(ModelRecipe.CycleGan, 64, 3), new OptimizerRecipe(), 1, 1);
        var picks = GeneratorEvaluator.TranslationPicks(plan with { HoldOut = true }, 1000, samples: 512);
        Assert.Equal(100, picks.Length);
        Assert.All(picks, i => Assert.InRange(i, 900, 999));
        Assert.Equal(picks.Length, picks.Distinct().Count());
        Assert.Equal(512, GeneratorEvaluator.TranslationPicks(plan, 1000, samples: 512).Length);
    }

    private static ImageDataset Head(ImageDataset data, int count)
    {
        var bytes = data.PixelBytes();
        int each = bytes.Length / data.Count;
        return new ImageDataset(data.Name, bytes[..(count * each)], count, data.Channels, data.ImageSize);
    }

    private static string Generator(TrainingPlan plan, TrainingData data)
    {
        using var trainer = Families.Trainers.Create(plan, data, CPU);
        trainer.Train(plan.Steps);
        using var reader = CheckpointBundle.Open(trainer.Checkpoint());
        return reader.Manifest.Entries[CheckpointEntries.Generator];
    }
}
