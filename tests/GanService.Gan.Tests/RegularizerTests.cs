using GanService.Gan.Data;
using GanService.Gan.Losses;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class RegularizerTests(BuiltOnce<SpectralConv2d> converged) : IClassFixture<BuiltOnce<SpectralConv2d>>
{
    [Fact]
    public void Each_loss_matches_its_formula()
    {
        using var real = tensor(new[] { 2.0f, -1.0f });
        using var fake = tensor(new[] { 0.5f, -3.0f });
        static double D(string name, Tensor r, Tensor f) =>
            AdversarialLosses.Create(name).Discriminator(r, f).item<float>();
        static double G(string name, Tensor f) => AdversarialLosses.Create(name).Generator(f).item<float>();
        Assert.Equal(0.5 * ((1 + 4) / 2.0) + 0.5 * ((0.25 + 9) / 2), D("lsgan", real, fake), 4);
        Assert.Equal(0.5 * ((0.25 + 16) / 2), G("lsgan", fake), 4);
        Assert.Equal((0 + 2) / 2.0 + (1.5 + 0) / 2, D("hinge", real, fake), 4);
        Assert.Equal(1.25, G("hinge", fake), 4);
        Assert.Equal(-1.25 - 0.5, D("wgan-gp", real, fake), 4);
        Assert.Equal(1.25, G("wgan-gp", fake), 4);
        static double Softplus(double x) => Math.Log(1 + Math.Exp(x));
        Assert.Equal(-(Softplus(0.5) + Softplus(-3)) / 2, G("bce-minimax", fake), 4);
    }

    [Fact]
    public void Gradient_penalty_uses_one_uniform_weight_per_sample()
    {
        // D(x) = 0.5 ||x||^2 has gradient x, so at x_hat = eps * real the norm is eps * ||real||.
        using var real = full(new long[] { 6, 1, 2, 2 }, 1.5f); // ||real|| = 3 per sample
        using var fake = zeros(6, 1, 2, 2);
        static Tensor Critic(Tensor x) => 0.5 * x.square().flatten(1).sum(1);
        using var rng = new torch.Generator(21);
        using var penalty = Penalties.GradientPenalty(Critic, real, fake, lambda: 10, rng);
        using var replay = new torch.Generator(21);
        var eps = rand([6, 1, 1, 1], generator: replay).flatten().data<float>().ToArray();
        Assert.Equal(6, eps.Distinct().Count()); // per sample, not per pixel or per batch
        Assert.All(eps, e => Assert.InRange(e, 0f, 1f));
        double expected = 10 * eps.Average(e => Math.Pow(3 * e - 1, 2));
        Assert.Equal(expected, penalty.item<float>(), 3);
    }

    [Fact]
    public void Gradient_penalty_uses_the_true_gradient_norm()
    {
        // A linear critic with ||w|| = 2 has gradient norm 2 everywhere: penalty = lambda * (2 - 1)^2.
        using var real = full(new long[] { 6, 1, 2, 2 }, 1.5f);
        using var fake = zeros(6, 1, 2, 2);
        using var rng = new torch.Generator(21);
        using var w = full(new long[] { 1, 1, 2, 2 }, 1f);
        using var linear = Penalties.GradientPenalty(x => (x * w).flatten(1).sum(1), real, fake, lambda: 10, rng);
        Assert.Equal(10, linear.item<float>(), 3);
    }

    [Fact]
    public void Gradient_penalty_stays_finite_where_the_gradient_is_zero()
    {
        using var x = zeros(3, 1, 2, 2);
        using var w = ones(1).requires_grad_(true);
        using var rng = new torch.Generator(1);
        using var penalty = Penalties.GradientPenalty(v => (0.5 * v.square() * w).flatten(1).sum(1), x, x, 10, rng);
        penalty.backward();
        Assert.Equal(10, penalty.item<float>(), 3);
        Assert.True(w.grad!.isfinite().all().item<bool>());
    }

    [Fact]
    public void R1_is_half_gamma_times_the_squared_gradient_norm_on_real_data()
    {
        using var real = randn(4, 1, 3, 3);
        using var w = full(new long[] { 1, 1, 3, 3 }, 2f); // ||w||^2 = 36
        using var r1 = Penalties.R1(x => (x * w).flatten(1).sum(1), real, gamma: 0.5);
        Assert.Equal(0.25 * 36, r1.item<float>(), 3);
    }

    [Fact]
    public void Lazy_R1_regularises_every_nth_update_with_n_times_the_weight()
    {
        using var data = SyntheticBlobs.Create(28, 1, seed: 5);
        TrainingPlan Plan(double gamma, int every) =>
            new(new ModelRecipe(), new OptimizerRecipe(), 2, 16, "bce", 7) { R1 = gamma, R1Every = every };
        using var lazy = GanTrainer.Create(Plan(1, 4), data, CPU);
        using var eager = GanTrainer.Create(Plan(4, 1), data, CPU);
        using var none = GanTrainer.Create(Plan(0, 1), data, CPU);
        foreach (var trainer in new[] { lazy, eager, none })
            trainer.Train(1);
        // Update 0 is regularised: gamma 1 every 4th update is gamma 4 on it, bit for bit,
        // and not the unregularised run.
        Assert.True(SameWeights(lazy, eager));
        Assert.False(SameWeights(lazy, none));
        // Update 1 is not: the eager run's second penalty makes the two part.
        lazy.Train(1);
        eager.Train(1);
        Assert.False(SameWeights(lazy, eager));

        static bool SameWeights(GanTrainer a, GanTrainer b) =>
            a.GeneratorState().Zip(b.GeneratorState()).All(p => p.First.Value.equal(p.Second.Value).all().item<bool>());
    }

    [Fact]
    public void Spectral_norm_finds_the_largest_singular_value()
    {
        var layer = converged.Get(ConvergedSpectralLayer);
        using var matrix = layer.Weight.detach().flatten(1);
        double exact = linalg.svdvals(matrix)[0].item<float>();
        Assert.Equal(exact, SpectralNorm.Sigma(layer.Weight, layer.U), exact * 1e-3);
    }

    [Fact]
    public void Spectral_norm_bounds_the_layer()
    {
        var layer = converged.Get(ConvergedSpectralLayer);
        using var normalised = SpectralNorm.Normalize(layer.Weight.detach(), layer.U.clone(), training: false);
        Assert.Equal(1.0, linalg.svdvals(normalised.flatten(1))[0].item<float>(), 2);
    }

    [Fact]
    public void A_spectral_layer_keeps_its_power_iteration_vector_in_checkpoints()
    {
        using var layer = new SpectralConv2d(3, 8, 3, stride: 1, padding: 1);
        Assert.Contains(layer.named_buffers(), b => b.name == "u");
    }

    /// <summary>A layer far from norm 1 whose power iteration has converged, built once for the class.</summary>
    private static SpectralConv2d ConvergedSpectralLayer()
    {
        var layer = new SpectralConv2d(3, 8, 3, stride: 1, padding: 1);
        using var rng = new torch.Generator(4);
        Initialization.Apply(layer, rng);
        using (no_grad())
            layer.Weight.mul_(40); // a layer far from norm 1
        using var x = randn(2, 3, 5, 5);
        // One power-iteration step per training call, from a start vector drawn from the global generator: for this
        // layer's spectral gap 50 calls once left the estimate 0.75% short; 300 converge from any start.
        for (int i = 0; i < 300; i++)
            layer.call(x).Dispose();
        return layer;
    }

    [Fact]
    public void The_ema_trails_the_weights_by_its_decay()
    {
        var recipe = new ModelRecipe();
        using var source = GanNetworks.Generator(recipe);
        var ema = new ExponentialMovingAverage(source, GanNetworks.Generator(recipe), 0.9);
        ema.Reset();
        var before = source.parameters().First().detach().clone();
        using (no_grad())
            source.parameters().First().add_(1);
        ema.Update();
        var averaged = ema.Shadow.parameters().First();
        Assert.True(averaged.allclose(before + 0.1, atol: 1e-6));
        ema.Dispose();
    }

    [Fact]
    public void DiffAugment_changes_images_but_keeps_their_shape()
    {
        using var images = rand(4, 3, 16, 16).mul(2).sub(1);
        using var rng = new torch.Generator(3);
        using var augmented = DiffAugment.Apply(images, DiffAugment.Policies, rng);
        Assert.Equal(images.shape, augmented.shape);
        Assert.False(augmented.allclose(images));
    }

    [Fact]
    public void DiffAugment_passes_gradients_back_to_the_images()
    {
        using var images = rand(4, 3, 16, 16).mul(2).sub(1).requires_grad_(true);
        using var rng = new torch.Generator(3);
        using var augmented = DiffAugment.Apply(images, DiffAugment.Policies, rng);
        augmented.sum().backward();
        Assert.True(images.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Cutout_blanks_a_square_in_each_image()
    {
        using var rng = new torch.Generator(3);
        using var cut = DiffAugment.Apply(ones(2, 1, 8, 8), [DiffAugment.Cutout], rng);
        Assert.InRange(cut.eq(0).sum().item<long>(), 2, 2 * 16); // a 4x4 square in each, clipped at the border
    }
}
