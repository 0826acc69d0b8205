using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace GanService.Gan.Cpu;

/// <summary>
/// The forward pass of a 3x3, stride-1, padding-1 transposed convolution to one or three channels, on channels-last
/// float32 memory, with AVX-512. oneDNN blocks output channels by 16, so for an RGB or grey output it does 5 to 16
/// times the work; here every multiply-add is a useful one. Each output pixel is a dot product over its 3x3
/// neighbourhood's input channels, vectorised over channels, four pixels at a time so that a weight load serves four.
/// </summary>
internal static unsafe class NarrowOutputKernel
{
    public static bool Supported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Sse3.IsSupported;

    public const int ChannelBlock = 16;

    /// <summary>
    /// Runs <paramref name="body"/>(first row, end row) in as many parts as this thread's libtorch count: a training
    /// thread's share of the cores, one on request threads. Both narrow layers' kernels split their rows this way.
    /// </summary>
    public static void ForRows(int rows, Action<int, int> body)
    {
        OpenMpTeam.ForRanges(rows, Math.Clamp(get_num_threads(), 1, rows), (_, first, end) =>
            body((int)first, (int)end)
        );
    }

    /// <summary>
    /// Output rows <paramref name="firstRow"/> to <paramref name="lastRow"/> (a row is one image row, batch-major) of
    /// <paramref name="y"/> [B*H, W, O] from <paramref name="x"/> [B*H, W, C] and the weights <paramref name="taps"/>
    /// [3, 3, O, C] indexed by the transposed convolution's (kh, kw): input pixel (i, j) reaches output (i + kh - 1,
    /// j + kw - 1).
    /// </summary>
    public static void Rows<TOutputs>(
        float* x,
        float* taps,
        float* bias,
        float* y,
        int height,
        int width,
        int channels,
        int firstRow,
        int lastRow
    )
        where TOutputs : struct, IOutputChannels
    {
        for (int row = firstRow; row < lastRow; row++)
        {
            int image = row / height,
                r = row % height;
            // Tap rows whose source row r + 1 - kh lies inside the image.
            int firstTap = Math.Max(0, r + 2 - height),
                lastTap = Math.Min(2, r + 1);
            float* imageRows = x + (long)image * height * width * channels;
            float* output = y + (long)row * width * TOutputs.Count;
            var at = new Position(imageRows, taps, bias, output, r, width, channels, firstTap, lastTap);
            int column = 0;
            Pixel<TOutputs>(at, column++);
            // Interior pixels: every horizontal tap is in the image, so no bounds checks.
            for (; column + 4 <= width - 1; column += 4)
                FourPixels<TOutputs>(at, column);
            for (; column < width; column++)
                Pixel<TOutputs>(at, column);
        }
    }

    private readonly struct Position(
        float* image,
        float* taps,
        float* bias,
        float* output,
        int row,
        int width,
        int channels,
        int firstTap,
        int lastTap
    )
    {
        public readonly float* Image = image,
            Taps = taps,
            Bias = bias,
            Output = output;
        public readonly int Row = row,
            Width = width,
            Channels = channels,
            FirstTap = firstTap,
            LastTap = lastTap;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourPixels<TOutputs>(in Position at, int column)
        where TOutputs : struct, IOutputChannels
    {
        int outputs = TOutputs.Count,
            channels = at.Channels;
        var a00 = Vector512<float>.Zero;
        var a01 = a00;
        var a02 = a00;
        var a10 = a00;
        var a11 = a00;
        var a12 = a00;
        var a20 = a00;
        var a21 = a00;
        var a22 = a00;
        var a30 = a00;
        var a31 = a00;
        var a32 = a00;
        for (int kh = at.FirstTap; kh <= at.LastTap; kh++)
        {
            float* sourceRow = at.Image + (long)(at.Row + 1 - kh) * at.Width * channels;
            for (int kw = 0; kw < 3; kw++)
            {
                float* p = sourceRow + (long)(column + 1 - kw) * channels;
                float* w = at.Taps + (kh * 3 + kw) * outputs * channels;
                for (int c = 0; c < channels; c += ChannelBlock)
                {
                    var x0 = Vector512.Load(p + c);
                    var x1 = Vector512.Load(p + channels + c);
                    var x2 = Vector512.Load(p + 2 * channels + c);
                    var x3 = Vector512.Load(p + 3 * channels + c);
                    var w0 = Vector512.Load(w + c);
                    a00 = Vector512.FusedMultiplyAdd(x0, w0, a00);
                    a10 = Vector512.FusedMultiplyAdd(x1, w0, a10);
                    a20 = Vector512.FusedMultiplyAdd(x2, w0, a20);
                    a30 = Vector512.FusedMultiplyAdd(x3, w0, a30);
                    if (outputs == 1)
                        continue; // a constant per instantiation: the JIT drops the dead branch
                    var w1 = Vector512.Load(w + channels + c);
                    a01 = Vector512.FusedMultiplyAdd(x0, w1, a01);
                    a11 = Vector512.FusedMultiplyAdd(x1, w1, a11);
                    a21 = Vector512.FusedMultiplyAdd(x2, w1, a21);
                    a31 = Vector512.FusedMultiplyAdd(x3, w1, a31);
                    var w2 = Vector512.Load(w + 2 * channels + c);
                    a02 = Vector512.FusedMultiplyAdd(x0, w2, a02);
                    a12 = Vector512.FusedMultiplyAdd(x1, w2, a12);
                    a22 = Vector512.FusedMultiplyAdd(x2, w2, a22);
                    a32 = Vector512.FusedMultiplyAdd(x3, w2, a32);
                }
            }
        }
        // Output memory is pixel-major, so four pixels' sums are consecutive floats.
        float* o = at.Output + column * outputs;
        float* b = at.Bias;
        if (outputs == 1)
        {
            (Sum4(a00, a10, a20, a30) + Vector128.Create(b[0])).Store(o);
            return;
        }
        (Sum4(a00, a01, a02, a10) + Vector128.Create(b[0], b[1], b[2], b[0])).Store(o);
        (Sum4(a11, a12, a20, a21) + Vector128.Create(b[1], b[2], b[0], b[1])).Store(o + 4);
        (Sum4(a22, a30, a31, a32) + Vector128.Create(b[2], b[0], b[1], b[2])).Store(o + 8);
    }

    /// <summary>One pixel, checking every tap against the image's edges.</summary>
    private static void Pixel<TOutputs>(in Position at, int column)
        where TOutputs : struct, IOutputChannels
    {
        int outputs = TOutputs.Count,
            channels = at.Channels;
        var a0 = Vector512<float>.Zero;
        var a1 = a0;
        var a2 = a0;
        for (int kh = at.FirstTap; kh <= at.LastTap; kh++)
        {
            float* sourceRow = at.Image + (long)(at.Row + 1 - kh) * at.Width * channels;
            for (int kw = 0; kw < 3; kw++)
            {
                int source = column + 1 - kw;
                if (source < 0 || source >= at.Width)
                    continue;
                float* p = sourceRow + (long)source * channels;
                float* w = at.Taps + (kh * 3 + kw) * outputs * channels;
                for (int c = 0; c < channels; c += ChannelBlock)
                {
                    var v = Vector512.Load(p + c);
                    a0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(w + c), a0);
                    if (outputs == 1)
                        continue;
                    a1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(w + channels + c), a1);
                    a2 = Vector512.FusedMultiplyAdd(v, Vector512.Load(w + 2 * channels + c), a2);
                }
            }
        }
        float* o = at.Output + column * outputs;
        o[0] = Vector512.Sum(a0) + at.Bias[0];
        if (outputs == 1)
            return;
        o[1] = Vector512.Sum(a1) + at.Bias[1];
        o[2] = Vector512.Sum(a2) + at.Bias[2];
    }

    /// <summary>
    /// The lane sums of four vectors as one vector: halves and quarters are added across the four first, so the
    /// horizontal adds at the end work on one quarter each, not on four whole vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        var ab = Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xEE);
        var cd = Avx512F.Shuffle4x128(c, d, 0x44) + Avx512F.Shuffle4x128(c, d, 0xEE);
        var quarters = Avx512F.Shuffle4x128(ab, cd, 0x88) + Avx512F.Shuffle4x128(ab, cd, 0xDD);
        var low = quarters.GetLower();
        var high = quarters.GetUpper();
        return Sse3.HorizontalAdd(
            Sse3.HorizontalAdd(low.GetLower(), low.GetUpper()),
            Sse3.HorizontalAdd(high.GetLower(), high.GetUpper())
        );
    }
}

/// <summary>The number of output channels as a type, so that each count gets code of its own.</summary>
internal interface IOutputChannels
{
    static abstract int Count { get; }
}

internal readonly struct OneChannel : IOutputChannels
{
    public static int Count => 1;
}

internal readonly struct ThreeChannels : IOutputChannels
{
    public static int Count => 3;
}
