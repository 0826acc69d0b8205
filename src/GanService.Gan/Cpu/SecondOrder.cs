namespace GanService.Gan.Cpu;

/// <summary>
/// Marks a forward pass whose gradient will itself be differentiated (a gradient penalty's). Inside the scope, on this
/// thread, layers whose backward pass is not differentiable in turn, or not right when differentiated, take a path
/// that is: the fused batch norm + LeakyReLU runs as libtorch's layers, and on a CPU where oneDNN failed the check
/// every convolution runs as matrix products, one per kernel tap (see <see cref="Convolutions"/>).
/// </summary>
public static class SecondOrder
{
    [ThreadStatic]
    private static int depth;

    public static bool Active => depth > 0;

    public static IDisposable Gradients()
    {
        depth++;
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed)
                return;
            disposed = true;
            depth--;
        }
    }
}
