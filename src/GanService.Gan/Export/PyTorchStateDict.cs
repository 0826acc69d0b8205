using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace GanService.Gan.Export;

/// <summary>
/// Writes tensors as a PyTorch state_dict file (what <c>torch.save(state_dict)</c> writes, read by
/// <c>torch.load</c>), through TorchSharp.PyBridge, which pickles a module's state: the tensors are handed to it
/// as the state of a module that holds nothing else.
/// </summary>
public static class PyTorchStateDict
{
    public static void Write(Stream output, IReadOnlyDictionary<string, Tensor> tensors)
    {
        using var holder = new Holder(tensors);
        holder.save_py(output, leaveOpen: true);
    }

    private sealed class Holder(IReadOnlyDictionary<string, Tensor> tensors) : nn.Module("state_dict")
    {
        public override Dictionary<string, Tensor> state_dict(
            Dictionary<string, Tensor>? destination = null,
            string? prefix = null
        )
        {
            destination ??= [];
            foreach (var (name, tensor) in tensors)
                destination[prefix + name] = tensor.contiguous();
            return destination;
        }
    }
}
