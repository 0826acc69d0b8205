using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Imaging;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class TrainingTests
{
    [Fact]
    public void Short_run_on_blobs_moves_the_generator_toward_the_data()
    {
        var plan = TestSupport.Plan(steps: 300, batch: 64, seed: 3);
        using var data = SyntheticBlobs.Create(28, 1, seed: 3);
        using var trainer = GanTrainer.Create(plan, data, CPU);
        var reports = new List<TrainingProgress>();
        trainer.Train(plan.Steps, new Progress(reports));

        Assert.Equal(300, trainer.Step);
        Assert.All(reports, r => Assert.True(double.IsFinite(r.DiscriminatorLoss) && double.IsFinite(r.GeneratorLoss)));
        using var real = data.Batch(Enumerable.Range(0, 512).Select(i => (long)i).ToArray(), CPU);
        using var untrained = GeneratorSampler.Untrained(plan, CPU);
        using var trained = GeneratorSampler.Load(trainer.Checkpoint(), CPU);
        using var before = untrained.Sample(seed: 11, count: 512);
        using var after = trained.Sample(seed: 11, count: 512);
        double distanceBefore = ImageStatistics.HistogramDistance(before, real);
        double distanceAfter = ImageStatistics.HistogramDistance(after, real);
        Assert.True(
            distanceAfter < distanceBefore / 2,
            $"pixel histogram distance to the data: untrained {distanceBefore:F3}, trained {distanceAfter:F3}"
        );
    }

    [Fact]
    public void A_non_finite_loss_stops_training_at_the_step_that_produced_it()
    {
        var plan = TestSupport.Plan(steps: 50, batch: 16, seed: 4);
        using var data = SyntheticBlobs.Create(28, 1, seed: 4);
        using var trainer = GanTrainer.Create(plan, data, CPU);
        trainer.Train(5);
        var before = trainer.Checkpoint();
        using (no_grad())
            foreach (var (_, weight) in trainer.GeneratorState().Take(1))
                weight.fill_(double.NaN);

        var reports = new List<TrainingProgress>();
        var diverged = Assert.Throws<TrainingDivergedException>(() => trainer.Train(10, new Progress(reports)));
        Assert.Equal(6, diverged.Step);
        Assert.StartsWith("Training diverged at step 6", diverged.Message);
        Assert.Empty(reports); // the poisoned step is never reported as progress
        // The last good checkpoint is untouched and still trains.
        using var resumed = GanTrainer.Resume(before, data, CPU);
        Assert.Equal(1, resumed.Train(1));
    }

    private sealed class Progress(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
