using TorchSharp;

namespace GanService.Gan.Sampling;

/// <summary>
/// A network loaded for inference, with what it holds in memory, so that a cache can bound its bytes.
/// </summary>
public interface ILoadedNetwork : IDisposable
{
    /// <summary>Bytes of the network's parameters and buffers.</summary>
    long Bytes { get; }
}

internal static class NetworkBytes
{
    public static long Of(torch.nn.Module network) =>
        network.parameters().Sum(p => p.NumberOfElements * p.ElementSize)
        + network.buffers().Sum(b => b.NumberOfElements * b.ElementSize);
}
