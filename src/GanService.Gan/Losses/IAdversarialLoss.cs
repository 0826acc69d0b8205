using static TorchSharp.torch;

namespace GanService.Gan.Losses;

/// <summary>
/// An adversarial objective over discriminator logits. The trainer stays the same for every loss; only these two
/// terms change.
/// </summary>
public interface IAdversarialLoss
{
    string Name { get; }

    /// <summary>The discriminator's loss for a real and a fake batch (both logits, shape [N]).</summary>
    Tensor Discriminator(Tensor realLogits, Tensor fakeLogits);

    /// <summary>The generator's loss for the discriminator's logits on its fakes.</summary>
    Tensor Generator(Tensor fakeLogits);
}
