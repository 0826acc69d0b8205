using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class CheckpointTests(BuiltOnce<CheckpointTests.Seeds> seeds, BuiltOnce<byte[]> threeSteps)
    : IClassFixture<BuiltOnce<CheckpointTests.Seeds>>,
        IClassFixture<BuiltOnce<byte[]>>
{
    /// <summary>How far a run with seed 1 lies from another with seed 1, and from one with seed 2.</summary>
    public sealed record Seeds(double SameSeed, double OtherSeed);

    private Seeds SeedRuns() =>
        seeds.Get(() =>
        {
            using var data = SyntheticBlobs.Create(28, 1, seed: 1, count: 128);
            using var a = GanTrainer.Create(TestSupport.Plan(steps: 5, batch: 16, seed: 1), data, CPU);
            using var b = GanTrainer.Create(TestSupport.Plan(steps: 5, batch: 16, seed: 1), data, CPU);
            using var c = GanTrainer.Create(TestSupport.Plan(steps: 5, batch: 16, seed: 2), data, CPU);
            a.Train(5);
            b.Train(5);
            c.Train(5);
            return new Seeds(
                TestSupport.MaxDifference(a.GeneratorState(), b.GeneratorState()),
                TestSupport.MaxDifference(a.GeneratorState(), c.GeneratorState())
            );
        });

    private static readonly TrainingPlan BundlePlan = TestSupport.Plan(steps: 3, batch: 8);

    /// <summary>The checkpoint of a three-step run.</summary>
    private byte[] Bundle() =>
        threeSteps.Get(() =>
        {
            using var data = SyntheticBlobs.Create(28, 1, count: 64);
            using var trainer = GanTrainer.Create(BundlePlan, data, CPU);
            trainer.Train(3);
            return trainer.Checkpoint();
        });

    [Fact]
    public void Resuming_from_a_checkpoint_continues_exactly_like_an_uninterrupted_run()
    {
        var plan = TestSupport.Plan(steps: 24, batch: 16, seed: 7);
        using var data = SyntheticBlobs.Create(28, 1, seed: 7, count: 256);

        using var straight = GanTrainer.Create(plan, data, CPU);
        straight.Train(24);

        byte[] bundle;
        using (var first = GanTrainer.Create(plan, data, CPU))
        {
            first.Train(10);
            bundle = first.Checkpoint();
        }
        using var resumed = GanTrainer.Resume(bundle, data, CPU, CheckpointBundle.Sha256(bundle));
        Assert.Equal(10, resumed.Step);
        resumed.Train(100);

        Assert.Equal(24, resumed.Step);
        Assert.Equal(0, TestSupport.MaxDifference(straight.GeneratorState(), resumed.GeneratorState()));
    }

    [Fact]
    public void Two_runs_with_one_seed_are_identical()
    {
        Assert.Equal(0, SeedRuns().SameSeed);
    }

    [Fact]
    public void Another_seed_trains_different_weights()
    {
        Assert.True(SeedRuns().OtherSeed > 1e-3);
    }

    [Fact]
    public void A_bundle_describes_itself()
    {
        using var reader = CheckpointBundle.Open(Bundle());
        Assert.Equal(3, reader.Manifest.Step);
        Assert.Equal(BundlePlan, reader.Manifest.Plan);
    }

    [Fact]
    public void A_damaged_bundle_is_refused()
    {
        var bundle = Bundle();
        using var data = SyntheticBlobs.Create(28, 1, count: 64);
        var damaged = (byte[])bundle.Clone();
        damaged[damaged.Length / 2] ^= 0xFF;
        Assert.Throws<CorruptCheckpointException>(() =>
            CheckpointBundle.Open(damaged, CheckpointBundle.Sha256(bundle))
        );
        Assert.Throws<CorruptCheckpointException>(() => GanTrainer.Resume(damaged, data, CPU));
        Assert.Throws<CorruptCheckpointException>(() => CheckpointBundle.Open([1, 2, 3]));
    }

    [Fact]
    public void A_bundle_read_from_a_stream_checks_each_entry_it_reads_against_the_manifest()
    {
        var damaged = (byte[])Bundle().Clone();
        damaged[damaged.Length / 2] ^= 0xFF;
        using var reader = CheckpointBundle.Open(new MemoryStream(damaged, writable: false));
        var refused = reader.Manifest.Entries.Keys.Where(name =>
            Record.Exception(() => reader.Entry(name).Dispose()) is CorruptCheckpointException
        );
        Assert.Single(refused);
        Assert.Throws<ArgumentException>(() => CheckpointBundle.Open(new ForwardOnlyStream(damaged)));
    }

    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public void A_trainer_refuses_the_bundle_of_a_family_it_does_not_train()
    {
        using var data = SyntheticBlobs.Create(28, 1, count: 16);
        byte[] bundle;
        using (var trainer = GanTrainer.Create(TestSupport.Plan(steps: 1, batch: 8), data, CPU))
            bundle = trainer.Checkpoint();
        Assert.Throws<ArgumentException>(() => Pix2PixTrainer.Resume(bundle, new TrainingData(data, data), CPU));
        Assert.Throws<ArgumentException>(() => CycleGanTrainer.Resume(bundle, new TrainingData(data, data), CPU));
    }

    [Fact]
    public void Cancellation_stops_between_steps()
    {
        using var data = SyntheticBlobs.Create(28, 1, count: 64);
        using var trainer = GanTrainer.Create(TestSupport.Plan(steps: 1000, batch: 8), data, CPU);
        using var cts = new CancellationTokenSource();
        var progress = new StopAfter(3, cts);
        int done = trainer.Train(1000, progress, cts.Token);
        Assert.Equal(3, done);
        Assert.Equal(3, trainer.Step);
    }

    private sealed class StopAfter(int steps, CancellationTokenSource cts) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step >= steps)
                cts.Cancel();
        }
    }
}
