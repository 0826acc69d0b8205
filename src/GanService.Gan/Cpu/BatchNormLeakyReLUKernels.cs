using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GanService.Gan.Cpu;

/// <summary>
/// Training-mode batch norm followed by LeakyReLU over channels-last float32 rows (one row of C channels per pixel),
/// in two passes over memory each way, where libtorch makes many more and the step is bound by memory. Forward:
/// statistics, then normalise-and-activate. Backward: the two per-channel sums, then the input gradient, both
/// recomputing the activation's sign from the input instead of reading a saved intermediate.
/// </summary>
internal static unsafe partial class BatchNormLeakyReLUKernels
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

    private static void Flush(Vector256<float>* partial, double* total, int channels)
    {
        int n = Vector256<float>.Count;
        for (int v = 0; v < channels / n; v++)
        for (int i = 0; i < n; i++)
            total[v * n + i] += partial[v][i];
    }
}
