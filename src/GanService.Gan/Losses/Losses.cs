using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GanService.Gan.Losses;

/// <summary>The original minimax game: G minimises log(1 - D(G(z))), which saturates early in training.</summary>
public sealed class MinimaxBceLoss : IAdversarialLoss
{
    public string Name => AdversarialLosses.MinimaxBce;

    public Tensor Discriminator(Tensor realLogits, Tensor fakeLogits) =>
        binary_cross_entropy_with_logits(realLogits, ones_like(realLogits))
        + binary_cross_entropy_with_logits(fakeLogits, zeros_like(fakeLogits));

    /// <summary>log(1 - sigmoid(f)) = -softplus(f), written stably.</summary>
    public Tensor Generator(Tensor fakeLogits) => softplus(fakeLogits).neg().mean();
}

/// <summary>Least squares (LSGAN): D regresses real to 1 and fake to 0; G pulls its fakes to 1.</summary>
public sealed class LeastSquaresLoss : IAdversarialLoss
{
    public string Name => AdversarialLosses.LeastSquares;

    public Tensor Discriminator(Tensor realLogits, Tensor fakeLogits) =>
        0.5 * (realLogits - 1).square().mean() + 0.5 * fakeLogits.square().mean();

    public Tensor Generator(Tensor fakeLogits) => 0.5 * (fakeLogits - 1).square().mean();
}

/// <summary>Wasserstein: the critic's scores estimate the distance; pair it with the gradient penalty.</summary>
public sealed class WassersteinLoss : IAdversarialLoss
{
    public string Name => AdversarialLosses.Wasserstein;

    public Tensor Discriminator(Tensor realLogits, Tensor fakeLogits) => fakeLogits.mean() - realLogits.mean();

    public Tensor Generator(Tensor fakeLogits) => fakeLogits.mean().neg();
}

/// <summary>Hinge: D penalises real scores below 1 and fake scores above -1; G raises its fakes' scores.</summary>
public sealed class HingeLoss : IAdversarialLoss
{
    public string Name => AdversarialLosses.Hinge;

    public Tensor Discriminator(Tensor realLogits, Tensor fakeLogits) =>
        relu(1 - realLogits).mean() + relu(1 + fakeLogits).mean();

    public Tensor Generator(Tensor fakeLogits) => fakeLogits.mean().neg();
}
