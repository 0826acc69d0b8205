using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GanService.Gan.Cpu;

/// <summary>
/// The passes of <see cref="BatchNormLeakyReLUKernels"/> for channel counts that are multiples of 64 (every DCGAN
/// block), on AVX-512: 64 channels are four 512-bit registers, so a chunk's per-channel constants and sums stay in
/// registers across all its rows instead of being loaded again for every pixel.
/// </summary>
internal static unsafe class BatchNormLeakyReLUWide
{
    public const int Chunk = 64;
    private const int Lanes = 16;

    public static bool Applies(int channels) =>
        FastPaths.Current.Wide && Vector512.IsHardwareAccelerated && channels % Chunk == 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Moments(
        float* x,
        long first,
        long last,
        int channels,
        float* shift,
        int block,
        double* sum,
        double* squares
    )
    {
        for (int c = 0; c < channels; c += Chunk)
        {
            var (k0, k1, k2, k3) = Load(shift + c);
            for (long start = first; start < last; start += block)
            {
                long end = Math.Min(last, start + block);
                var s0 = Vector512<float>.Zero;
                var s1 = s0;
                var s2 = s0;
                var s3 = s0;
                var q0 = s0;
                var q1 = s0;
                var q2 = s0;
                var q3 = s0;
                for (long r = start; r < end; r++)
                {
                    float* row = x + r * channels + c;
                    var d0 = Vector512.Load(row) - k0;
                    var d1 = Vector512.Load(row + Lanes) - k1;
                    var d2 = Vector512.Load(row + 2 * Lanes) - k2;
                    var d3 = Vector512.Load(row + 3 * Lanes) - k3;
                    s0 += d0;
                    s1 += d1;
                    s2 += d2;
                    s3 += d3;
                    q0 = Vector512.FusedMultiplyAdd(d0, d0, q0);
                    q1 = Vector512.FusedMultiplyAdd(d1, d1, q1);
                    q2 = Vector512.FusedMultiplyAdd(d2, d2, q2);
                    q3 = Vector512.FusedMultiplyAdd(d3, d3, q3);
                }
                Flush(sum + c, s0, s1, s2, s3);
                Flush(squares + c, q0, q1, q2, q3);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(
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
        var k = Vector512.Create(slope);
        for (int c = 0; c < channels; c += Chunk)
        {
            var (a0, a1, a2, a3) = Load(scale + c);
            var (b0, b1, b2, b3) = Load(offset + c);
            for (long r = first; r < last; r++)
            {
                float* row = x + r * channels + c,
                    output = y + r * channels + c;
                Activate(row, output, a0, b0, k);
                Activate(row + Lanes, output + Lanes, a1, b1, k);
                Activate(row + 2 * Lanes, output + 2 * Lanes, a2, b2, k);
                Activate(row + 3 * Lanes, output + 3 * Lanes, a3, b3, k);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GradientMoments(
        float* x,
        float* dy,
        long first,
        long last,
        int channels,
        float* scale,
        float* offset,
        float* mean,
        float slope,
        int block,
        double* gradSum,
        double* gradDot
    )
    {
        var k = Vector512.Create(slope);
        for (int c = 0; c < channels; c += Chunk)
        {
            var (a0, a1, a2, a3) = Load(scale + c);
            var (b0, b1, b2, b3) = Load(offset + c);
            var (m0, m1, m2, m3) = Load(mean + c);
            for (long start = first; start < last; start += block)
            {
                long end = Math.Min(last, start + block);
                var g0 = Vector512<float>.Zero;
                var g1 = g0;
                var g2 = g0;
                var g3 = g0;
                var h0 = g0;
                var h1 = g0;
                var h2 = g0;
                var h3 = g0;
                for (long r = start; r < end; r++)
                {
                    float* row = x + r * channels + c,
                        grad = dy + r * channels + c;
                    Accumulate(row, grad, a0, b0, m0, k, ref g0, ref h0);
                    Accumulate(row + Lanes, grad + Lanes, a1, b1, m1, k, ref g1, ref h1);
                    Accumulate(row + 2 * Lanes, grad + 2 * Lanes, a2, b2, m2, k, ref g2, ref h2);
                    Accumulate(row + 3 * Lanes, grad + 3 * Lanes, a3, b3, m3, k, ref g3, ref h3);
                }
                Flush(gradSum + c, g0, g1, g2, g3);
                Flush(gradDot + c, h0, h1, h2, h3);
            }
        }
    }

    /// <summary>
    /// dx = k1 * e - (k2 + (x - mean) * k3), with e the gradient past the activation (k1 to k3: the caller's).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputGradient(
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
        var k = Vector512.Create(slope);
        for (int c = 0; c < channels; c += Chunk)
        {
            var (a0, a1, a2, a3) = Load(scale + c);
            var (b0, b1, b2, b3) = Load(offset + c);
            var (m0, m1, m2, m3) = Load(mean + c);
            var (p0, p1, p2, p3) = Load(k1 + c);
            var (t0, t1, t2, t3) = Load(k2 + c);
            var (n0, n1, n2, n3) = Load(k3 + c);
            for (long r = first; r < last; r++)
            {
                long at = r * channels + c;
                InputGradient(x + at, dy + at, dx + at, a0, b0, m0, p0, t0, n0, k);
                InputGradient(x + at + Lanes, dy + at + Lanes, dx + at + Lanes, a1, b1, m1, p1, t1, n1, k);
                InputGradient(x + at + 2 * Lanes, dy + at + 2 * Lanes, dx + at + 2 * Lanes, a2, b2, m2, p2, t2, n2, k);
                InputGradient(x + at + 3 * Lanes, dy + at + 3 * Lanes, dx + at + 3 * Lanes, a3, b3, m3, p3, t3, n3, k);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Activate(
        float* x,
        float* y,
        Vector512<float> scale,
        Vector512<float> offset,
        Vector512<float> slope
    )
    {
        var z = Vector512.FusedMultiplyAdd(Vector512.Load(x), scale, offset);
        Vector512.Max(z, z * slope).Store(y); // LeakyReLU with a slope below 1
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(
        float* x,
        float* dy,
        Vector512<float> scale,
        Vector512<float> offset,
        Vector512<float> mean,
        Vector512<float> slope,
        ref Vector512<float> sum,
        ref Vector512<float> dot
    )
    {
        var xv = Vector512.Load(x);
        var e = PastActivation(xv, Vector512.Load(dy), scale, offset, slope);
        sum += e;
        dot = Vector512.FusedMultiplyAdd(e, xv - mean, dot);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputGradient(
        float* x,
        float* dy,
        float* dx,
        Vector512<float> scale,
        Vector512<float> offset,
        Vector512<float> mean,
        Vector512<float> k1,
        Vector512<float> k2,
        Vector512<float> k3,
        Vector512<float> slope
    )
    {
        var xv = Vector512.Load(x);
        var e = PastActivation(xv, Vector512.Load(dy), scale, offset, slope);
        // Two multiply-adds (the negation is exact).
        Vector512.FusedMultiplyAdd(e, k1, -Vector512.FusedMultiplyAdd(xv - mean, k3, k2)).Store(dx);
    }

    /// <summary>
    /// The gradient past LeakyReLU, its sign recomputed from the input exactly as the forward pass did.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PastActivation(
        Vector512<float> x,
        Vector512<float> dy,
        Vector512<float> scale,
        Vector512<float> offset,
        Vector512<float> slope
    )
    {
        var z = Vector512.FusedMultiplyAdd(x, scale, offset);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<float>.Zero), dy, dy * slope);
    }

    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Load(float* p) =>
        (Vector512.Load(p), Vector512.Load(p + Lanes), Vector512.Load(p + 2 * Lanes), Vector512.Load(p + 3 * Lanes));

    private static void Flush(
        double* total,
        Vector512<float> v0,
        Vector512<float> v1,
        Vector512<float> v2,
        Vector512<float> v3
    )
    {
        for (int i = 0; i < Lanes; i++)
        {
            total[i] += v0[i];
            total[Lanes + i] += v1[i];
            total[2 * Lanes + i] += v2[i];
            total[3 * Lanes + i] += v3[i];
        }
    }
}
