using System.Diagnostics;
using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Quality;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Quality;

/// <summary>
/// A checkpoint's evaluation end to end on a small side (the network accepts any multiple of 32), and the pieces it
/// adds to the metrics: the near-duplicate share and the paired distances of translations, against closed forms.
/// </summary>
public sealed class GeneratorEvaluatorTests
{
    private static readonly Lazy<FeatureNetwork> Network = new(() => FeatureNetwork.Load(side: 64));

    private static readonly TrainingPlan Plan = TestSupport.Plan(steps: 2, size: 32, batch: 8);

    [Fact]
    public void A_checkpoint_scores_the_same_twice_and_its_seconds_are_measured()
    {
        using var images = SyntheticBlobs.Create(32, 1, seed: 3, count: 64);
        var data = new TrainingData(images);
        using var trainer = GanTrainer.Create(Plan, images, CPU);
        trainer.Train(2);
        using var checkpoint = CheckpointBundle.Open(trainer.Checkpoint());
        var real = GeneratorEvaluator.RealStatistics(Network.Value, Plan, data, count: 48);

        var first = GeneratorEvaluator.Evaluate(Network.Value, checkpoint, data, real, samples: 20);
        var second = GeneratorEvaluator.Evaluate(Network.Value, checkpoint, data, real, samples: 20);

        Assert.Equal((48L, 64), (real.Count, real.Side));
        Assert.Equal(20, first.Scores.Samples);
        Assert.True(first.Scores.Fd > 0, $"an untrained generator's FD {first.Scores.Fd}");
        Assert.Equal(first.Scores.Fd, second.Scores.Fd, 1e-6);
        Assert.Equal(first.Scores.Recall, second.Scores.Recall);
        Assert.Null(first.L1);
        Assert.InRange(first.Seconds, 1e-3, 600);
    }

    [Fact]
    public void Statistics_from_another_side_are_refused()
    {
        using var images = SyntheticBlobs.Create(32, 1, count: 16);
        using var trainer = GanTrainer.Create(Plan, images, CPU);
        using var checkpoint = CheckpointBundle.Open(trainer.Checkpoint());
        var real = RealStatistics.From(randn([20, FeatureNetwork.Dimensions], ScalarType.Float64), side: 96);
        var error = Assert.Throws<ArgumentException>(() =>
            GeneratorEvaluator.Evaluate(Network.Value, checkpoint, new TrainingData(images), real, samples: 16)
        );
        Assert.Contains("side 96", error.Message);
    }

    [Fact]
    public void Picks_are_a_fixed_draw_without_repeats()
    {
        var picks = GeneratorEvaluator.Picks(100, 30);
        Assert.Equal(picks, GeneratorEvaluator.Picks(100, 30));
        Assert.Equal(30, picks.Distinct().Count());
        Assert.All(picks, p => Assert.InRange(p, 0, 99));
        Assert.Equal(10, GeneratorEvaluator.Picks(10, 30).Length);
    }

    [Fact]
    public void One_repeated_sample_is_all_duplicates_and_has_no_recall()
    {
        var realFeatures = randn([300, 16], ScalarType.Float64, generator: new Generator(8));
        var real = RealStatistics.From(realFeatures, subsetSize: 300);
        var collapsed = realFeatures[..1].repeat(200, 1);
        var healthy = randn([200, 16], ScalarType.Float64, generator: new Generator(9));

        var bad = GeneratorEvaluator.Scored(real, collapsed, Stopwatch.StartNew());
        var good = GeneratorEvaluator.Scored(real, healthy, Stopwatch.StartNew());

        Assert.Equal(1.0, bad.DuplicateShare);
        Assert.InRange(bad.Scores.Recall, 0, 0.01);
        Assert.InRange(good.DuplicateShare, 0, 0.05);
        Assert.True(good.Scores.Recall > 0.5, $"recall of a second draw {good.Scores.Recall}");
    }

    [Fact]
    public void The_duplicate_radius_is_a_low_percentile_of_real_nearest_distances_and_ignores_exact_repeats()
    {
        // Points on a line one apart: every nearest distance is 1, so the radius is 1.
        var line = arange(50, ScalarType.Float64).unsqueeze(1);
        Assert.Equal(1.0, NearDuplicates.Radius(line), 1e-9);
        // The same with a few exact repeats: the repeats (distance 0) are left out.
        var repeated = cat([line, line[..3]], 0);
        Assert.Equal(1.0, NearDuplicates.Radius(repeated), 1e-9);
        // Two points closer than the radius count; the share is of items, so both count.
        var items = tensor(new double[] { 0, 0.5, 10, 20 }, [4, 1]);
        Assert.Equal(0.5, NearDuplicates.Share(items, radius: 1));
        Assert.Throws<ArgumentException>(() => NearDuplicates.Radius(line[..1]));
    }

    [Fact]
    public void Paired_distances_match_their_closed_forms()
    {
        var targets = rand([3, 1, 8, 8], generator: new Generator(2)) * 2 - 1;
        var exact = new PairedDistances();
        exact.Add(targets, targets);
        Assert.Equal((0.0, PairedDistances.MaxPsnr), (exact.L1, exact.Psnr));

        // Off by 0.2 in [-1, 1] units is 0.1 in [0, 1] pixels: MSE 0.01, so PSNR 20 dB.
        var shifted = new PairedDistances();
        shifted.Add(targets[..2] + 0.2, targets[..2]);
        shifted.Add(targets[2..] - 0.2, targets[2..]);
        Assert.Equal(3, shifted.Count);
        Assert.Equal(0.2, shifted.L1, 1e-6);
        Assert.Equal(20, shifted.Psnr, 1e-4);
    }
}
