namespace GanService.Gan.Cpu;

/// <summary>
/// Every CPU fast path of the library, each on by default; off, that part runs as libtorch's own layers do. They
/// exist to be compared: the A/B benchmark and the tests turn one off and measure or check the difference (see
/// docs/performance.md). A run reads <see cref="Current"/>: the process's <see cref="Default"/> unless a caller's
/// <see cref="Override"/> is in force on its thread or async flow, so tests that each switch something off can run
/// side by side.
/// </summary>
/// <param name="Output">G's 3x3 output layer to one or three channels on a kernel of ours (NarrowOutputLayer).</param>
/// <param name="Input">The frozen D's first layer's input gradient on a kernel of ours (NarrowInputLayer).</param>
/// <param name="Adam">Adam's update in one pass over each parameter (Fused.Adam).</param>
/// <param name="BatchNorm">Batch norm and LeakyReLU as one fused operation in training (BatchNormLeakyReLU).</param>
/// <param name="Wide">That fusion's AVX-512 passes for channel counts that are multiples of 64.</param>
/// <param name="Reuse">That fusion's backward writes the input gradient over its input, a convolution's output.</param>
/// <param name="OpenMpTeam">Our kernels' parts on libtorch's OpenMP team rather than .NET's thread pool.</param>
/// <param name="MemoryOrder">D flattens its channels-last features as they lie in memory, and G's training images
/// stay channels-last.</param>
/// <param name="InPlace">D's LeakyReLU after a convolution overwrites the convolution's output.</param>
/// <param name="Grouping">D's update scores the real and the fake batch in one call (IGroupedDiscriminator).</param>
public sealed record FastPaths(
    bool Output = true,
    bool Input = true,
    bool Adam = true,
    bool BatchNorm = true,
    bool Wide = true,
    bool Reuse = true,
    bool OpenMpTeam = true,
    bool MemoryOrder = true,
    bool InPlace = true,
    bool Grouping = true
)
{
    private static readonly AsyncLocal<FastPaths?> Scoped = new();

    /// <summary>The paths where no override is in force: all on, unless a benchmark's process says otherwise.</summary>
    public static FastPaths Default { get; internal set; } = new();

    public static FastPaths Current => Scoped.Value ?? Default;

    /// <summary>
    /// The switches by the names the A/B benchmark and <c>GAN_BENCH_LIBTORCH</c> take, each with what turning it
    /// off means; <c>threadpool</c> is the name of what runs instead of the OpenMP team.
    /// </summary>
    public static IReadOnlyDictionary<string, Func<FastPaths, FastPaths>> Off { get; } =
        new Dictionary<string, Func<FastPaths, FastPaths>>
        {
            ["output"] = p => p with { Output = false },
            ["input"] = p => p with { Input = false },
            ["adam"] = p => p with { Adam = false },
            ["batchnorm"] = p => p with { BatchNorm = false },
            ["wide"] = p => p with { Wide = false },
            ["reuse"] = p => p with { Reuse = false },
            ["threadpool"] = p => p with { OpenMpTeam = false },
            ["memoryorder"] = p => p with { MemoryOrder = false },
            ["inplace"] = p => p with { InPlace = false },
            ["grouping"] = p => p with { Grouping = false },
        };

    /// <summary>These paths with the named ones off (names from <see cref="Off"/>; others are an error).</summary>
    public FastPaths Without(IEnumerable<string> names) =>
        names.Aggregate(this, (paths, name) =>
            Off.TryGetValue(name, out var off)
                ? off(paths)
                : throw new ArgumentException($"No fast path is named '{name}'.", nameof(names))
        );

    /// <summary>
    /// <paramref name="change"/> applied to <see cref="Current"/> until the result is disposed, on this thread and
    /// in what it starts (tasks, threads); other threads keep theirs. Scopes nest and end in reverse order.
    /// </summary>
    public static IDisposable Override(Func<FastPaths, FastPaths> change) => Use(change(Current));

    /// <summary>
    /// <paramref name="paths"/> in force until disposed: a custom autograd node's backward uses it to run with the
    /// paths its forward ran with, whichever thread or scope calls the backward.
    /// </summary>
    internal static IDisposable Use(FastPaths paths)
    {
        var scope = new Scope(Scoped.Value);
        Scoped.Value = paths;
        return scope;
    }

    private sealed class Scope(FastPaths? previous) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed)
                return;
            disposed = true;
            Scoped.Value = previous;
        }
    }
}
