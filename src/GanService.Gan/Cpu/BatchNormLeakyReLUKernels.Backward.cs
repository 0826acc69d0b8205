using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GanService.Gan.Cpu;

// The backward pass: the two per-channel gradient sums, then the input gradient (the forward pass and the row
// partitioning it shares are in BatchNormLeakyReLUKernels.cs).
internal static unsafe partial class BatchNormLeakyReLUKernels
{
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
}
