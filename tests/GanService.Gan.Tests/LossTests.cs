using GanService.Gan.Losses;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class LossTests
{
    private readonly IAdversarialLoss bce = AdversarialLosses.Create(AdversarialLosses.NonSaturatingBce);

    [Fact]
    public void Bce_matches_the_formula_on_moderate_logits()
    {
        using var real = tensor(new[] { 2.0f, -1.0f });
        using var fake = tensor(new[] { 0.5f, -3.0f });
        static double S(double x) => 1 / (1 + Math.Exp(-x));
        double expectedD = -(Math.Log(S(2)) + Math.Log(S(-1))) / 2 - (Math.Log(1 - S(0.5)) + Math.Log(1 - S(-3))) / 2;
        double expectedG = -(Math.Log(S(0.5)) + Math.Log(S(-3))) / 2;
        Assert.Equal(expectedD, bce.Discriminator(real, fake).item<float>(), 4);
        Assert.Equal(expectedG, bce.Generator(fake).item<float>(), 4);
    }

    [Fact]
    public void Bce_stays_finite_for_extreme_logits()
    {
        using var fake = tensor(new[] { -200f, 200f });
        using var loss = bce.Generator(fake);
        Assert.Equal(100f, loss.item<float>(), 3); // log-sum-exp: -log(sigmoid(-200)) = 200, averaged with ~0
    }

    [Fact]
    public void Bce_keeps_its_gradient_for_extreme_logits()
    {
        using var fake = tensor(new[] { -200f, 200f }).requires_grad_(true);
        using var loss = bce.Generator(fake);
        loss.backward();
        Assert.True(fake.grad!.isfinite().all().item<bool>());
        Assert.True(fake.grad![0].item<float>() < -0.4f); // the non-saturating loss still pushes a rejected fake
    }

    [Fact]
    public void Unknown_loss_names_are_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => AdversarialLosses.Create("nope"));
        Assert.Contains("bce", e.Message);
    }
}
