using GanService.Gan.Models;
using static TorchSharp.torch;

namespace GanService.Gan.Export;

/// <summary>
/// A network's state as an export holds it: every parameter and buffer by its TorchSharp name, except that a
/// spectrally normalised layer's weight is exported already divided by its sigma, computed from the stored u as the
/// eval-mode forward does, and u itself is left out: the Python side needs no power iteration.
/// </summary>
public static class ExportedWeights
{
    /// <summary>The tensors, in the caller's dispose scope.</summary>
    public static Dictionary<string, Tensor> Of(nn.Module network)
    {
        using var _ = no_grad();
        var state = network.state_dict().ToDictionary(p => p.Key, p => p.Value.detach());
        foreach (var (name, module) in network.named_modules())
        {
            if (module is not (SpectralConv2d or SpectralLinear))
                continue;
            string prefix = name.Length == 0 ? "" : name + ".";
            var weight = module.named_parameters(recurse: false).Single(p => p.name == "weight").parameter;
            var u = module.named_buffers(recurse: false).Single(b => b.name == "u").buffer;
            state[prefix + "weight"] = SpectralNorm.Normalize(weight, u, training: false).detach();
            state.Remove(prefix + "u");
        }
        return state;
    }
}
