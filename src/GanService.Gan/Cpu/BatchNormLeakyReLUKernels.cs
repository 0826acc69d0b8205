using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GanService.Gan.Cpu;

/// <summary>
/// Training-mode batch norm followed by LeakyReLU over channels-last float32 rows (one row of C channels per pixel),
/// in two passes over memory each way, where libtorch makes many more and the step is bound by memory. Forward:
/// statistics, then normalise-and-activate. Backward: the two per-channel sums, then the input gradient, both
/// recomputing the activation's sign from the input instead of reading a saved intermediate.
/// </summary>
internal static unsafe class BatchNormLeakyReLUKernels
{
    /// <summary>Rows summed in float before the partial sums are added into double (bounded rounding error).</summary>
    private const int Block = 256;

    public static bool Supports(long channels) =>
        Vector256.IsHardwareAccelerated && channels % Vector256<float>.Count == 0;

    /// <summary>
    /// Writes y and returns the batch mean and 1/sqrt(biased variance + eps) per channel in <paramref name="mean"/>
    /// and <paramref name="invstd"/>; <paramref name="variance"/> gets the biased batch variance (for running stats).
    /// </summary>
    public static void Forward(
        float* x,
        float* y,
        long rows,
        int channels,
        float* gamma,
        float* beta,
        double eps,
        float slope,
        int threads,
        float* mean,
        float* invstd,
        double* variance
    )
    {
        // Sums are taken around the first row's values: the variance comes from E[(x-k)^2] - E[x-k]^2, which loses
        // nothing to cancellation when a channel's mean is large against its spread.
        bool wide = BatchNormLeakyReLUWide.Applies(channels);
        var shift = new float[channels];
        new Span<float>(x, channels).CopyTo(shift);
        var (sum, squares) = Reduce(rows, channels, threads, (first, last, s, q) =>
        {
            fixed (float* k = shift)
                if (wide)
                    BatchNormLeakyReLUWide.Moments(x, first, last, channels, k, Block, s, q);
                else
                    Moments(x, first, last, channels, k, s, q);
        });
        var scale = new float[channels];
        var offset = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / rows;
            double v = Math.Max(squares[c] / rows - m * m, 0);
            double inv = 1 / Math.Sqrt(v + eps);
            mean[c] = (float)(m + shift[c]);
            invstd[c] = (float)inv;
            variance[c] = v;
            scale[c] = (float)(gamma[c] * inv);
            offset[c] = (float)(beta[c] - (m + shift[c]) * gamma[c] * inv);
        }
        Parallel(rows, threads, (_, first, last) =>
        {
            fixed (
                float* a = scale,
                    b = offset
            )
                if (wide)
                    BatchNormLeakyReLUWide.Activate(x, y, first, last, channels, a, b, slope);
                else
                    Activate(x, y, first, last, channels, a, b, slope);
        });
    }

    /// <summary>Input gradient into dx, and the gradients of the batch norm's scale and offset.</summary>
    public static void Backward(
        float* x,
        float* dy,
        float* dx,
        long rows,
        int channels,
        float* gamma,
        float* beta,
        float* mean,
        float* invstd,
        float slope,
        int threads,
        float* dgamma,
        float* dbeta
    )
    {
        bool wide = BatchNormLeakyReLUWide.Applies(channels);
        var scale = new float[channels];
        var offset = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = gamma[c] * invstd[c];
            offset[c] = beta[c] - mean[c] * gamma[c] * invstd[c];
        }
        var (gradSum, gradDot) = Reduce(rows, channels, threads, (first, last, g, h) =>
        {
            fixed (
                float* a = scale,
                    b = offset
            )
                if (wide)
                    BatchNormLeakyReLUWide.GradientMoments(
                        x,
                        dy,
                        first,
                        last,
                        channels,
                        a,
                        b,
                        mean,
                        slope,
                        Block,
                        g,
                        h
                    );
                else
                    GradientMoments(x, dy, first, last, channels, a, b, mean, slope, g, h);
        });
        // dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)), with g the gradient past the activation.
        var k1 = new float[channels];
        var k2 = new float[channels];
        var k3 = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double dotHat = gradDot[c] * invstd[c];
            dbeta[c] = (float)gradSum[c];
            dgamma[c] = (float)dotHat;
            double w = (double)gamma[c] * invstd[c];
            k1[c] = (float)w;
            k2[c] = (float)(w * gradSum[c] / rows);
            k3[c] = (float)(w * dotHat * invstd[c] / rows);
        }
        Parallel(rows, threads, (_, first, last) =>
        {
            fixed (
                float* a = scale,
                    b = offset,
                    p = k1,
                    q = k2,
                    r = k3
            )
                if (wide)
                    BatchNormLeakyReLUWide.InputGradient(x, dy, dx, first, last, channels, a, b, mean, p, q, r, slope);
                else
                    InputGradient(x, dy, dx, first, last, channels, a, b, mean, p, q, r, slope);
        });
    }

    private delegate void RowReduction(long first, long last, double* a, double* b);

    /// <summary>
    /// Row ranges on the calling thread's OpenMP team, one part per thread (see <see cref="OpenMpTeam"/>).
    /// </summary>
    private static void Parallel(long rows, int threads, Action<int, long, long> body) =>
        OpenMpTeam.ForRanges(rows, Parts(rows, threads), body);

    private static (double[] A, double[] B) Reduce(long rows, int channels, int threads, RowReduction body)
    {
        int parts = Parts(rows, threads);
        var a = new double[parts * channels];
        var b = new double[parts * channels];
        Parallel(rows, threads, (p, first, last) =>
        {
            fixed (
                double* pa = a,
                    pb = b
            )
                body(first, last, pa + p * channels, pb + p * channels);
        });
        for (int p = 1; p < parts; p++)
        for (int c = 0; c < channels; c++)
        {
            a[c] += a[p * channels + c];
            b[c] += b[p * channels + c];
        }
        return (a, b);
    }

    private static int Parts(long rows, int threads) => rows < 4 * Block ? 1 : Math.Max(1, threads);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Moments(
        float* x,
        long first,
        long last,
        int channels,
        float* shift,
        double* sum,
        double* squares
    )
    {
        int n = Vector256<float>.Count;
        var s = stackalloc Vector256<float>[channels / n];
        var q = stackalloc Vector256<float>[channels / n];
        for (long start = first; start < last; start += Block)
        {
            long end = Math.Min(last, start + Block);
            for (int v = 0; v < channels / n; v++)
                s[v] = q[v] = Vector256<float>.Zero;
            for (long r = start; r < end; r++)
            {
                float* row = x + r * channels;
                for (int v = 0; v < channels / n; v++)
                {
                    var d = Vector256.Load(row + v * n) - Vector256.Load(shift + v * n);
                    s[v] += d;
                    q[v] = Vector256.FusedMultiplyAdd(d, d, q[v]);
                }
            }
            Flush(s, sum, channels);
            Flush(q, squares, channels);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Activate(
        float* x,
        float* y,
        long first,
        long last,
        int channels,
        float* scale,
        float* offset,
        float slope
    )
    {
        int n = Vector256<float>.Count;
        var k = Vector256.Create(slope);
        for (long r = first; r < last; r++)
        {
            float* row = x + r * channels,
                output = y + r * channels;
            for (int v = 0; v < channels; v += n)
            {
                var z = Vector256.FusedMultiplyAdd(
                    Vector256.Load(row + v),
                    Vector256.Load(scale + v),
                    Vector256.Load(offset + v)
                );
                // LeakyReLU with a slope below 1 is max(z, slope * z).
                Vector256.Max(z, z * k).Store(output + v);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradientMoments(
        float* x,
        float* dy,
        long first,
        long last,
        int channels,
        float* scale,
        float* offset,
        float* mean,
        float slope,
        double* gradSum,
        double* gradDot
    )
    {
        int n = Vector256<float>.Count;
        var k = Vector256.Create(slope);
        var g = stackalloc Vector256<float>[channels / n];
        var h = stackalloc Vector256<float>[channels / n];
        for (long start = first; start < last; start += Block)
        {
            long end = Math.Min(last, start + Block);
            for (int v = 0; v < channels / n; v++)
                g[v] = h[v] = Vector256<float>.Zero;
            for (long r = start; r < end; r++)
            {
                float* row = x + r * channels,
                    grad = dy + r * channels;
                for (int v = 0; v < channels / n; v++)
                {
                    var xv = Vector256.Load(row + v * n);
                    var e = PastActivation(xv, Vector256.Load(grad + v * n), scale + v * n, offset + v * n, k);
                    g[v] += e;
                    h[v] = Vector256.FusedMultiplyAdd(e, xv - Vector256.Load(mean + v * n), h[v]);
                }
            }
            Flush(g, gradSum, channels);
            Flush(h, gradDot, channels);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputGradient(
        float* x,
        float* dy,
        float* dx,
        long first,
        long last,
        int channels,
        float* scale,
        float* offset,
        float* mean,
        float* k1,
        float* k2,
        float* k3,
        float slope
    )
    {
        int n = Vector256<float>.Count;
        var k = Vector256.Create(slope);
        for (long r = first; r < last; r++)
        {
            float* row = x + r * channels,
                grad = dy + r * channels,
                output = dx + r * channels;
            for (int v = 0; v < channels; v += n)
            {
                var xv = Vector256.Load(row + v);
                var e = PastActivation(xv, Vector256.Load(grad + v), scale + v, offset + v, k);
                var centred = xv - Vector256.Load(mean + v);
                (Vector256.Load(k1 + v) * e - Vector256.Load(k2 + v) - centred * Vector256.Load(k3 + v)).Store(
                    output + v
                );
            }
        }
    }

    /// <summary>The gradient past LeakyReLU: the activation's input is recomputed exactly as the forward did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PastActivation(
        Vector256<float> x,
        Vector256<float> dy,
        float* scale,
        float* offset,
        Vector256<float> slope
    )
    {
        var z = Vector256.FusedMultiplyAdd(x, Vector256.Load(scale), Vector256.Load(offset));
        return Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), dy, dy * slope);
    }

    private static void Flush(Vector256<float>* partial, double* total, int channels)
    {
        int n = Vector256<float>.Count;
        for (int v = 0; v < channels / n; v++)
        for (int i = 0; i < n; i++)
            total[v * n + i] += partial[v][i];
    }
}
