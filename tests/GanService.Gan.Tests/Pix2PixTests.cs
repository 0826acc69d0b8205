using GanService.Gan.Data;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class Pix2PixTests(BuiltOnce<Pix2PixTests.Run> run) : IClassFixture<BuiltOnce<Pix2PixTests.Run>>
{
    /// <summary>
    /// Inputs: coloured discs; targets: the same images with every colour inverted. A fixed mapping to learn.
    /// </summary>
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
    public void The_unet_keeps_the_image_size(int size)
    {
        using var g = new UNetGenerator(new ModelRecipe(ModelRecipe.Pix2Pix, size, 3));
        using var x = rand(2, 3, size, size).mul(2).sub(1);
        using var y = g.call(x);
        Assert.Equal(x.shape, y.shape);
    }

    [Fact]
    public void The_unet_has_the_papers_layers()
    {
        using var g = new UNetGenerator(new ModelRecipe(ModelRecipe.Pix2Pix, 64, 3));
        // Encoder 3-64-128-256-512-512-512 (4x4, no bias; batch norm on the four middle blocks), decoder mirrored
        // with skip connections doubling its inputs, then a 4x4 transposed convolution with bias to 3 channels.
        long encoder =
            16 * (3 * 64 + 64 * 128 + 128 * 256 + 256 * 512 + 512 * 512 + 512 * 512) + 2 * (128 + 256 + 512 + 512);
        long decoder =
            16 * (512 * 512 + 1024 * 512 + 1024 * 256 + 512 * 128 + 256 * 64)
            + 2 * (512 + 512 + 256 + 128 + 64)
            + (16 * 128 * 3 + 3);
        Assert.Equal(encoder + decoder, GanNetworks.ParameterCount(g));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    public void The_patchgan_scores_patches(int size)
    {
        using var d = new PatchDiscriminator(6);
        using var pairs = rand(2, 6, size, size).mul(2).sub(1);
        using var patches = d.call(pairs);
        long side = size / 8 - 2; // three stride-2 convolutions, then two 4x4 stride-1 ones
        Assert.Equal(new long[] { 2, 1, side, side }, patches.shape);
        // The 70x70 PatchGAN on 6 channels: 4x4 convolutions 6-64-128-256-512-1, batch norm on the middle three.
        long expected =
            (6 * 64 * 16 + 64)
            + 64 * 128 * 16
            + 2 * 128
            + 128 * 256 * 16
            + 2 * 256
            + 256 * 512 * 16
            + 2 * 512
            + (512 * 16 + 1);
        Assert.Equal(expected, GanNetworks.ParameterCount(d));
    }

    [Fact]
    public void The_unet_gradients_match_a_float64_reference()
    {
        using var images = GradientInput(pairs: false);
        var recipe = new ModelRecipe(ModelRecipe.Pix2Pix, 64, 3);
        GradientCheck.AssertMatchesFloat64(() => new UNetGenerator(recipe), images);
    }

    [Fact]
    public void The_patchgan_gradients_match_a_float64_reference()
    {
        using var pairs = GradientInput(pairs: true);
        GradientCheck.AssertMatchesFloat64(() => new PatchDiscriminator(6), pairs);
    }

    /// <summary>Four images for the U-Net, or four input-output pairs for the PatchGAN drawn after them.</summary>
    private static Tensor GradientInput(bool pairs)
    {
        using var inputRng = new torch.Generator(11);
        var images = rand([4, 3, 64, 64], generator: inputRng).mul(2).sub(1);
        if (!pairs)
            return images;
        images.Dispose();
        return rand([4, 6, 64, 64], generator: inputRng).mul(2).sub(1);
    }

    /// <summary>
    /// Pix2Pix trained 40 steps on the inversion, once for the class, with the checkpoint at step 34 kept: a resume
    /// from there must end where the uninterrupted run ends.
    /// </summary>
    public sealed class Run : IDisposable
    {
        public TrainingData Data { get; } = Inversion(64);
        public Pix2PixTrainer Trainer { get; }
        public List<TrainingProgress> Reports { get; } = [];
        public byte[] Partial { get; }

        public Run()
        {
            Trainer = (Pix2PixTrainer)Trainers.Create(Plan(40), Data, CPU);
            Trainer.Train(34, new Collect(Reports));
            Partial = Trainer.Checkpoint();
            Trainer.Train(40, new Collect(Reports));
        }

        public void Dispose()
        {
            Trainer.Dispose();
            Data.Images.Dispose();
            Data.Targets?.Dispose();
        }
    }

    private Run Trained => run.Get(() => new Run());

    [Fact]
    public void Pix2pix_learns_a_colour_mapping()
    {
        Assert.All(Trained.Reports, r => Assert.True(double.IsFinite(r.GeneratorLoss)));
        using var sampler = Sampling.TranslationSampler.Load(Trained.Trainer.Checkpoint(), CPU);
        using var a = Trained.Data.Images.Batch([60, 61, 62, 63], CPU);
        using var b = Trained.Data.Targets!.Batch([60, 61, 62, 63], CPU);
        using var output = sampler.Translate(a);
        double before = (a - b).abs().mean().item<float>(),
            after = (output - b).abs().mean().item<float>();
        Assert.True(after < before / 2, $"mean absolute error to the target: input {before:F3}, output {after:F3}");
    }

    [Fact]
    public void Pix2pix_resumes_exactly()
    {
        using var resumed = (Pix2PixTrainer)Trainers.Resume(Trained.Partial, Trained.Data, CPU);
        resumed.Train(40);
        Assert.Equal(0, TestSupport.MaxDifference(Trained.Trainer.GeneratorState(), resumed.GeneratorState()));
    }

    [Fact]
    public void A_pix2pix_preview_has_a_row_each_for_inputs_outputs_targets()
    {
        using var preview = SixLabors.ImageSharp.Image.Load(Trained.Trainer.PreviewPng());
        Assert.Equal(Imaging.ImageGrid.Size(12, 3, 64), (preview.Width, preview.Height));
    }

    private sealed class Collect(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
