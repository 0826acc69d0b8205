using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class CycleGanTests
{
    private static TrainingPlan Plan(int steps) =>
        new(new ModelRecipe(ModelRecipe.CycleGan, 64, 3), new OptimizerRecipe(), steps, 4, "lsgan", Seed: 6);

    [Fact]
    public void The_resnet_generator_keeps_the_size_and_its_gradients_match_float64()
    {
        var recipe = new ModelRecipe(ModelRecipe.CycleGan, 64, 3);
        using var inputRng = new torch.Generator(11);
        using var input = rand([2, 3, 64, 64], generator: inputRng).mul(2).sub(1);
        using var generator = new ResnetGenerator(recipe);
        using (var output = generator.call(input)) Assert.Equal(input.shape, output.shape);
        // 7x7 stem, two 3x3 downsamplings, six residual blocks of two 3x3 convolutions, two upsamplings, 7x7 out with
        // bias; instance norm without affine parameters, convolutions before a norm without bias.
        long expected = 3 * 64 * 49 + 64 * 128 * 9 + 128 * 256 * 9 + 6 * 2 * 256 * 256 * 9 + 256 * 128 * 9 + 128 * 64 * 9 + (64 * 3 * 49 + 3);
        Assert.Equal(expected, GanNetworks.ParameterCount(generator));
        GradientCheck.AssertMatchesFloat64(() => new ResnetGenerator(recipe), input);
    }

    [Fact]
    public void The_image_pool_fills_then_swaps_half_of_the_time_and_survives_a_checkpoint()
    {
        using var pool = new ImagePool(capacity: 4);
        using var rng = new torch.Generator(2);
        using var first = arange(4).to(ScalarType.Float32).view(4, 1, 1, 1);
        using (var answer = pool.Query(first, rng)) Assert.True(answer.eq(first).all().item<bool>()); // filling: passed through
        int swapped = 0;
        for (int i = 0; i < 50; i++)
        {
            using var fresh = full(new long[] { 1, 1, 1, 1 }, 100f + i);
            using var answer = pool.Query(fresh, rng);
            if (answer.item<float>() != 100f + i) swapped++;
        }
        Assert.InRange(swapped, 15, 35);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) pool.Save(writer);
        buffer.Position = 0;
        using var restored = new ImagePool(capacity: 4);
        restored.Load(new BinaryReader(buffer), CPU);
        Assert.Equal(4, restored.Count);
    }

    [Fact]
    public void Cyclegan_learns_an_invertible_mapping_and_resumes_exactly()
    {
        // Unpaired: A holds coloured discs, B the colour inversions of other images.
        using var colour = SyntheticBlobs.Create(64, 3, seed: 13, count: 96);
        var pixels = colour.PixelBytes();
        int item = 3 * 64 * 64;
        using var domainA = new ImageDataset("A", pixels[..(48 * item)], 48, 3, 64);
        using var domainB = new ImageDataset("B", pixels[(48 * item)..].Select(v => (byte)(255 - v)).ToArray(), 48, 3, 64);
        var data = new TrainingData(domainA, domainB);

        using var trainer = (CycleGanTrainer)Trainers.Create(Plan(30), data, CPU);
        trainer.Train(24);
        var partial = trainer.Checkpoint(); // a resume from here must end where the uninterrupted run ends
        trainer.Train(30);
        var bundle = trainer.Checkpoint();
        using var forward = TranslationSampler.Load(bundle, CPU);
        using var backward = TranslationSampler.Load(bundle, CPU, backward: true);
        using var a = domainA.Batch([0, 1, 2, 3], CPU);
        using var translated = forward.Translate(a);
        using var roundTrip = backward.Translate(translated);
        double identityError = (a - a.neg()).abs().mean().item<float>();
        double translationError = (translated - a.neg()).abs().mean().item<float>();
        double reconstruction = (roundTrip - a).abs().mean().item<float>();
        Assert.True(translationError < identityError / 2, $"A->B distance to the inversion {translationError:F3}, the input's {identityError:F3}");
        Assert.True(reconstruction < identityError / 4, $"A->B->A reconstruction error {reconstruction:F3}");

        using var resumed = (CycleGanTrainer)Trainers.Resume(partial, data, CPU);
        resumed.Train(30);
        Assert.Equal(0, TestSupport.MaxDifference(trainer.GeneratorState(), resumed.GeneratorState()));
    }
}
