using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Gan.Models;

/// <summary>How every family's networks start: the DCGAN paper's rule, drawn from the run's generator.</summary>
public static class Initialization
{
    /// <summary>
    /// Weights of convolutions, dense layers and embeddings N(0, 0.02), batch-norm scales N(1, 0.02), biases 0; layers
    /// with state of their own (spectral norm's u) reset; layers with a rule of their own (equalized learning rate)
    /// follow it.
    /// </summary>
    public static void Apply(Module module, Generator generator)
    {
        using var _ = no_grad();
        foreach (var (_, child) in module.named_modules())
        {
            if (child is ISeededState seeded)
                seeded.Reset(generator);
            if (child is ISelfInitializing own)
            {
                own.Initialize(generator);
                continue;
            }
            bool norm = child is BatchNorm2d;
            foreach (var (name, parameter) in child.named_parameters(recurse: false))
            {
                if (name == "bias")
                    parameter.zero_();
                else if (name == "weight")
                    parameter.normal_(norm ? 1 : 0, 0.02, generator);
            }
        }
    }
}
