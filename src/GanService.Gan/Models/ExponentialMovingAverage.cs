using static TorchSharp.torch;

namespace GanService.Gan.Models;

/// <summary>
/// A copy of the generator whose weights trail the trained ones: ema = decay * ema + (1 - decay) * weights after
/// every generator update; buffers (batch-norm statistics) are copied. Samples from it are usually smoother.
/// </summary>
public sealed class ExponentialMovingAverage(nn.Module source, nn.Module shadow, double decay) : IDisposable
{
    public nn.Module Shadow { get; } = shadow;

    /// <summary>Starts the average at the source's current weights.</summary>
    public void Reset()
    {
        using var _ = no_grad();
        Shadow.load_state_dict(source.state_dict());
    }

    public void Update()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var ((_, average), (_, current)) in Shadow.named_parameters().Zip(source.named_parameters()))
            average.mul_(decay).add_(current, alpha: 1 - decay);
        foreach (var ((_, average), (_, current)) in Shadow.named_buffers().Zip(source.named_buffers()))
            average.copy_(current);
    }

    public void Dispose() => Shadow.Dispose();
}
