using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GanService.Gan.Losses;

/// <summary>
/// The standard GAN loss as binary cross-entropy on logits (log-sum-exp form, so large logits never overflow).
/// Non-saturating: the generator maximises log D(G(z)) by labelling its fakes real, as the course does.
/// </summary>
public sealed class NonSaturatingBceLoss : IAdversarialLoss
{
    public string Name => AdversarialLosses.NonSaturatingBce;

    public Tensor Discriminator(Tensor realLogits, Tensor fakeLogits) =>
        binary_cross_entropy_with_logits(realLogits, ones_like(realLogits))
        + binary_cross_entropy_with_logits(fakeLogits, zeros_like(fakeLogits));

    public Tensor Generator(Tensor fakeLogits) => binary_cross_entropy_with_logits(fakeLogits, ones_like(fakeLogits));
}
