using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class Pix2PixTests
{
    /// <summary>Inputs: coloured discs; targets: the same images with every colour inverted. A fixed mapping to learn.</summary>
    internal static TrainingData Inversion(int count, int size = 64)
    {
        using var colour = SyntheticBlobs.Create(size, 3, seed: 9, count: count);
        var a = colour.PixelBytes();
        var b = a.Select(v => (byte)(255 - v)).ToArray();
        return new TrainingData(new ImageDataset("a", a, count, 3, size), new ImageDataset("b", b, count, 3, size));
    }

    private static TrainingPlan Plan(int steps, int size = 64) =>
        new(new ModelRecipe(ModelRecipe.Pix2Pix, size, 3), new OptimizerRecipe(), steps, 8, Seed: 3);

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    public void The_unet_keeps_the_image_size_and_the_patchgan_scores_patches(int size)
    {
        var recipe = new ModelRecipe(ModelRecipe.Pix2Pix, size, 3);
        using var g = new UNetGenerator(recipe);
        using var d = new PatchDiscriminator(6);
        using var x = rand(2, 3, size, size).mul(2).sub(1);
        using var y = g.call(x);
        Assert.Equal(x.shape, y.shape);
        using var patches = d.call(cat([x, y], 1));
        long side = size / 8 - 2; // three stride-2 convolutions, then two 4x4 stride-1 ones
        if (size == 64)
        {
            // Encoder 3-64-128-256-512-512-512 (4x4, no bias; batch norm on the four middle blocks), decoder mirrored
            // with skip connections doubling its inputs, then a 4x4 transposed convolution with bias to 3 channels.
            long encoder = 16 * (3 * 64 + 64 * 128 + 128 * 256 + 256 * 512 + 512 * 512 + 512 * 512) + 2 * (128 + 256 + 512 + 512);
            long decoder = 16 * (512 * 512 + 1024 * 512 + 1024 * 256 + 512 * 128 + 256 * 64) + 2 * (512 + 512 + 256 + 128 + 64) + (16 * 128 * 3 + 3);
            Assert.Equal(encoder + decoder, GanNetworks.ParameterCount(g));
        }
        Assert.Equal(new long[] { 2, 1, side, side }, patches.shape);
        // The 70x70 PatchGAN on 6 channels: 4x4 convolutions 6-64-128-256-512-1, batch norm on the middle three.
        long expected = (6 * 64 * 16 + 64) + 64 * 128 * 16 + 2 * 128 + 128 * 256 * 16 + 2 * 256 + 256 * 512 * 16 + 2 * 512 + (512 * 16 + 1);
        Assert.Equal(expected, GanNetworks.ParameterCount(d));
    }

    [Fact]
    public void Unet_and_patchgan_gradients_match_a_float64_reference()
    {
        var recipe = new ModelRecipe(ModelRecipe.Pix2Pix, 64, 3);
        using var inputRng = new torch.Generator(11);
        using var images = rand([4, 3, 64, 64], generator: inputRng).mul(2).sub(1);
        using var pairs = rand([4, 6, 64, 64], generator: inputRng).mul(2).sub(1);
        GradientCheck.AssertMatchesFloat64(() => new UNetGenerator(recipe), images);
        GradientCheck.AssertMatchesFloat64(() => new PatchDiscriminator(6), pairs);
    }

    [Fact]
    public void Pix2pix_learns_a_colour_mapping_and_resumes_exactly()
    {
        var data = Inversion(64);
        using var trainer = (Pix2PixTrainer)Trainers.Create(Plan(40), data, CPU);
        var reports = new List<TrainingProgress>();
        trainer.Train(34, new Collect(reports));
        var bundle = trainer.Checkpoint(); // a resume from here must end where the uninterrupted run ends
        trainer.Train(40, new Collect(reports));
        Assert.All(reports, r => Assert.True(double.IsFinite(r.GeneratorLoss)));

        using var sampler = Sampling.TranslationSampler.Load(trainer.Checkpoint(), CPU);
        using var a = data.Images.Batch([60, 61, 62, 63], CPU);
        using var b = data.Targets!.Batch([60, 61, 62, 63], CPU);
        using var output = sampler.Translate(a);
        double before = (a - b).abs().mean().item<float>(), after = (output - b).abs().mean().item<float>();
        Assert.True(after < before / 2, $"mean absolute error to the target: input {before:F3}, output {after:F3}");

        using var resumed = (Pix2PixTrainer)Trainers.Resume(bundle, data, CPU);
        resumed.Train(40);
        Assert.Equal(0, TestSupport.MaxDifference(trainer.GeneratorState(), resumed.GeneratorState()));
        using var preview = SixLabors.ImageSharp.Image.Load(trainer.PreviewPng());
        Assert.Equal(Imaging.ImageGrid.Size(12, 3, 64), (preview.Width, preview.Height)); // input, output, target rows
    }

    private sealed class Collect(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
