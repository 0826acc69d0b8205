using GanService.Gan.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Losses;

/// <summary>Gradient regularisers of the discriminator.</summary>
public static class Penalties
{
    /// <summary>
    /// WGAN-GP: lambda * E[(||grad D(x_hat)|| - 1)^2] at x_hat = eps * real + (1 - eps) * fake, with one eps per
    /// sample drawn uniformly from [0, 1]. The norm is taken as sqrt(sum + 1e-12) so its gradient at zero is finite.
    /// </summary>
    public static Tensor GradientPenalty(
        Func<Tensor, Tensor> critic,
        Tensor real,
        Tensor fake,
        double lambda,
        torch.Generator rng
    )
    {
        var epsilon = rand([real.shape[0], 1, 1, 1], generator: rng).to(real.device);
        var mixed = (epsilon * real.detach() + (1 - epsilon) * fake.detach()).requires_grad_(true);
        Tensor scores;
        using (SecondOrder.Gradients())
            scores = critic(mixed);
        var gradient = autograd.grad([scores.sum()], [mixed], retain_graph: true, create_graph: true)[0];
        var norm = (gradient.flatten(1).square().sum(1) + 1e-12).sqrt();
        return lambda * (norm - 1).square().mean();
    }

    /// <summary>R1: gamma / 2 * E[||grad D(real)||^2], penalising the discriminator's slope on real data.</summary>
    public static Tensor R1(Func<Tensor, Tensor> discriminator, Tensor real, double gamma)
    {
        var x = real.detach().requires_grad_(true);
        Tensor scores;
        using (SecondOrder.Gradients())
            scores = discriminator(x);
        var gradient = autograd.grad([scores.sum()], [x], retain_graph: true, create_graph: true)[0];
        return gamma / 2 * gradient.flatten(1).square().sum(1).mean();
    }

    /// <summary>
    /// BigGAN's orthogonal regularisation: beta * sum over weights W (as [out, in * k * k]) of ||W W^T (1 - I)||_F^2,
    /// which keeps filters near orthogonal without constraining their norms, so truncated latents
    /// still give good images.
    /// </summary>
    public static Tensor Orthogonal(nn.Module network, double beta)
    {
        Tensor total = zeros(1);
        foreach (var (name, weight) in network.named_parameters())
        {
            if (!name.EndsWith("weight") || weight.ndim < 2 || name.Contains("shared") || name.Contains("projection"))
                continue;
            var w = weight.flatten(1);
            var gram = w.mm(w.t());
            total = total.to(w.device) + (gram * (1 - eye(gram.shape[0], device: w.device))).square().sum();
        }
        return beta * total;
    }
}
