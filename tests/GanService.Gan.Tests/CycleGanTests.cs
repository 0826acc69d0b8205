using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class CycleGanTests(BuiltOnce<CycleGanTests.Run> run) : IClassFixture<BuiltOnce<CycleGanTests.Run>>
{
    private static TrainingPlan Plan(int steps) => new(Recipe, new OptimizerRecipe(), steps, 4, "lsgan", Seed: 6);

    private static readonly ModelRecipe Recipe = new(ModelRecipe.CycleGan, 64, 3);

    private static Tensor Input()
    {
        using var inputRng = new torch.Generator(11);
        return rand([2, 3, 64, 64], generator: inputRng).mul(2).sub(1);
    }

    [Fact]
    public void The_resnet_generator_keeps_the_image_size()
    {
        using var input = Input();
        using var generator = new ResnetGenerator(Recipe);
        using var output = generator.call(input);
        Assert.Equal(input.shape, output.shape);
    }

    [Fact]
    public void The_resnet_generator_has_the_papers_layers()
    {
        using var generator = new ResnetGenerator(Recipe);
        // 7x7 stem, two 3x3 downsamplings, six residual blocks of two 3x3 convolutions, two upsamplings, 7x7 out with
        // bias; instance norm without affine parameters, convolutions before a norm without bias.
        long expected =
            3 * 64 * 49
            + 64 * 128 * 9
            + 128 * 256 * 9
            + 6 * 2 * 256 * 256 * 9
            + 256 * 128 * 9
            + 128 * 64 * 9
            + (64 * 3 * 49 + 3);
        Assert.Equal(expected, GanNetworks.ParameterCount(generator));
    }

    [Fact]
    public void The_resnet_generator_gradients_match_float64()
    {
        using var input = Input();
        GradientCheck.AssertMatchesFloat64(() => new ResnetGenerator(Recipe), input);
    }

    [Fact]
    public void The_image_pool_fills_then_swaps_half_of_the_time()
    {
        using var rng = new torch.Generator(2);
        using var first = arange(4).to(ScalarType.Float32).view(4, 1, 1, 1);
        using var pool = new ImagePool(capacity: 4);
        using (var answer = pool.Query(first, rng))
            Assert.True(answer.eq(first).all().item<bool>()); // filling: passed through
        int swapped = 0;
        for (int i = 0; i < 50; i++)
        {
            using var fresh = full(new long[] { 1, 1, 1, 1 }, 100f + i);
            using var answer = pool.Query(fresh, rng);
            if (answer.item<float>() != 100f + i)
                swapped++;
        }
        Assert.InRange(swapped, 15, 35);
    }

    [Fact]
    public void The_image_pool_survives_a_checkpoint()
    {
        using var pool = new ImagePool(capacity: 4);
        using var rng = new torch.Generator(2);
        using (var filler = ones(4, 1, 1, 1))
            pool.Query(filler, rng).Dispose();
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            pool.Save(writer);
        buffer.Position = 0;
        using var restored = new ImagePool(capacity: 4);
        restored.Load(new BinaryReader(buffer), CPU);
        Assert.Equal(4, restored.Count);
    }

    /// <summary>
    /// Unpaired: A holds coloured discs, B the colour inversions of other images. Trained once for the class, with the
    /// checkpoint at step 24 kept: a resume from there must end where the uninterrupted run ends.
    /// </summary>
    public sealed class Run : IDisposable
    {
        public ImageDataset DomainA { get; }
        public TrainingData Data { get; }
        public CycleGanTrainer Trainer { get; }
        public byte[] Partial { get; }
        public byte[] Bundle { get; }
        private readonly ImageDataset colour,
            domainB;

        public Run()
        {
            colour = SyntheticBlobs.Create(64, 3, seed: 13, count: 96);
            var pixels = colour.PixelBytes();
            int item = 3 * 64 * 64;
            DomainA = new ImageDataset("A", pixels[..(48 * item)], 48, 3, 64);
            domainB = new ImageDataset("B", pixels[(48 * item)..].Select(v => (byte)(255 - v)).ToArray(), 48, 3, 64);
            Data = new TrainingData(DomainA, domainB);
            Trainer = (CycleGanTrainer)Trainers.Create(Plan(30), Data, CPU);
            Trainer.Train(24);
            Partial = Trainer.Checkpoint();
            Trainer.Train(30);
            Bundle = Trainer.Checkpoint();
        }

        public void Dispose()
        {
            Trainer.Dispose();
            DomainA.Dispose();
            domainB.Dispose();
            colour.Dispose();
        }
    }

    private Run Trained => run.Get(() => new Run());

    [Fact]
    public void Cyclegan_learns_an_invertible_mapping()
    {
        using var forward = TranslationSampler.Load(Trained.Bundle, CPU);
        using var backward = TranslationSampler.Load(Trained.Bundle, CPU, backward: true);
        using var a = Trained.DomainA.Batch([0, 1, 2, 3], CPU);
        using var translated = forward.Translate(a);
        using var roundTrip = backward.Translate(translated);
        double identityError = (a - a.neg()).abs().mean().item<float>();
        double translationError = (translated - a.neg()).abs().mean().item<float>();
        double reconstruction = (roundTrip - a).abs().mean().item<float>();
        Assert.True(
            translationError < identityError / 2,
            $"A->B distance to the inversion {translationError:F3}, the input's {identityError:F3}"
        );
        Assert.True(reconstruction < identityError / 4, $"A->B->A reconstruction error {reconstruction:F3}");
    }

    [Fact]
    public void Cyclegan_resumes_exactly()
    {
        using var resumed = (CycleGanTrainer)Trainers.Resume(Trained.Partial, Trained.Data, CPU);
        resumed.Train(30);
        Assert.Equal(0, TestSupport.MaxDifference(Trained.Trainer.GeneratorState(), resumed.GeneratorState()));
    }
}
