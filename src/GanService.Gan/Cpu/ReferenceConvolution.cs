using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Cpu;

/// <summary>
/// libtorch's reference convolution, <c>_slow_conv2d_forward</c> (im2col and a matrix product; its backward is
/// <c>_slow_conv2d_backward</c>, the same method): what libtorch runs when oneDNN is off, reached for single calls
/// while oneDNN stays on for the rest. TorchSharp does not bind it; TorchScript reaches it. Inside
/// <see cref="SecondOrder"/> scopes it is one matrix product per kernel tap instead (<see cref="Taps"/>), since
/// <c>_slow_conv2d_backward</c>'s own derivative goes back to oneDNN. A transposed convolution is the convolution of
/// the input spread out by the stride (zeros between pixels) with the kernel flipped and its channel axes swapped;
/// groups run one at a time.
/// </summary>
internal static class ReferenceConvolution
{
    private static readonly Lazy<jit.CompilationUnit?> Script = new(() =>
    {
        try
        {
            return jit.compile(
                """
                def with_bias(
                    x: Tensor, w: Tensor, b: Tensor, kh: int, kw: int, sh: int, sw: int, ph: int, pw: int
                ) -> Tensor:
                    return torch._slow_conv2d_forward(x, w, [kh, kw], b, [sh, sw], [ph, pw])

                def without_bias(x: Tensor, w: Tensor, kh: int, kw: int, sh: int, sw: int, ph: int, pw: int) -> Tensor:
                    return torch._slow_conv2d_forward(x, w, [kh, kw], None, [sh, sw], [ph, pw])

                """
            ); // the script must end with a newline
        }
        catch (ExternalException)
        {
            return null;
        }
    });

    /// <summary>Whether this libtorch has the reference convolution (compiled once).</summary>
    public static bool Available => Script.Value is not null;

    public static Tensor Apply(Convolutions.Geometry g, Tensor x, Tensor weight, Tensor? bias)
    {
        if (g.Groups > 1)
        {
            // Transposed weights are [in, out / groups, kh, kw], plain ones [out, in / groups, kh, kw]:
            // both split on dim 0.
            var single = g with { Groups = 1, In = g.In / g.Groups, Out = g.Out / g.Groups };
            var inputs = x.chunk(g.Groups, 1);
            var weights = weight.chunk(g.Groups, 0);
            var biases = bias?.chunk(g.Groups, 0);
            return cat(
                Enumerable
                    .Range(0, (int)g.Groups)
                    .Select(i => Apply(single, inputs[i], weights[i], biases?[i]))
                    .ToList(),
                1
            );
        }
        return g.Transposed
            ? Transposed(g, x, weight, bias)
            : Plain(
                x,
                weight,
                bias,
                g.KernelHeight,
                g.KernelWidth,
                g.StrideHeight,
                g.StrideWidth,
                g.PaddingHeight,
                g.PaddingWidth
            );
    }

    private static Tensor Transposed(Convolutions.Geometry g, Tensor x, Tensor weight, Tensor? bias)
    {
        long n = x.shape[0],
            c = x.shape[1],
            h = x.shape[2],
            w = x.shape[3];
        var spread = x;
        if (g.StrideHeight > 1 || g.StrideWidth > 1)
        {
            // [N, C, H, 1, W, 1] padded to [N, C, H, sh, W, sw]: each pixel followed by zeros,
            // then the trailing zeros cut.
            spread = nn
                .functional.pad(x.reshape(n, c, h, 1, w, 1), [0, g.StrideWidth - 1, 0, 0, 0, g.StrideHeight - 1])
                .reshape(n, c, h * g.StrideHeight, w * g.StrideWidth)
                .narrow(2, 0, (h - 1) * g.StrideHeight + 1)
                .narrow(3, 0, (w - 1) * g.StrideWidth + 1);
        }
        long top = g.KernelHeight - 1 - g.PaddingHeight,
            left = g.KernelWidth - 1 - g.PaddingWidth;
        // Negative amounts crop, which is what padding larger than the kernel means for a transposed convolution.
        spread = nn.functional.pad(spread, [left, left + g.OutputPaddingWidth, top, top + g.OutputPaddingHeight]);
        var kernel = weight.transpose(0, 1).flip(2, 3).contiguous();
        return Plain(spread, kernel, bias, g.KernelHeight, g.KernelWidth, 1, 1, 0, 0);
    }

    private static Tensor Plain(
        Tensor x,
        Tensor weight,
        Tensor? bias,
        long kh,
        long kw,
        long sh,
        long sw,
        long ph,
        long pw
    )
    {
        if (SecondOrder.Active)
        {
            var y = Taps(x, weight, kh, kw, sh, sw, ph, pw);
            return bias is null ? y : y + bias.reshape(1, -1, 1, 1);
        }
        return bias is null
            ? (Tensor)Script.Value!.invoke("without_bias", x, weight, kh, kw, sh, sw, ph, pw)
            : (Tensor)Script.Value!.invoke("with_bias", x, weight, bias, kh, kw, sh, sw, ph, pw);
    }

    /// <summary>
    /// The convolution as one matrix product per kernel tap, of a strided window of the channels-last input with that
    /// tap's [in, out] weights, summed: views, window copies and matrix products, whose derivatives of any order are
    /// the same operations again and never reach oneDNN. It replaced <c>im2col</c> and one product, whose column
    /// buffer (kh x kw times the input) exceeded glibc's largest mmap threshold, so it was mapped and faulted in at
    /// every use; and whose <c>col2im</c> ran on one thread (see docs/performance.md, "libtorch workarounds").
    /// The output is channels-last in memory.
    /// </summary>
    private static Tensor Taps(Tensor x, Tensor weight, long kh, long kw, long sh, long sw, long ph, long pw)
    {
        long n = x.shape[0],
            c = x.shape[1],
            o = weight.shape[0];
        var padded = ph > 0 || pw > 0 ? nn.functional.pad(x, [pw, pw, ph, ph]) : x;
        long ho = (padded.shape[2] - kh) / sh + 1,
            wo = (padded.shape[3] - kw) / sw + 1;
        var channelsLast = padded.permute(0, 2, 3, 1);
        var taps = weight.permute(2, 3, 1, 0); // [kh, kw, in, out]
        Tensor? y = null;
        for (long i = 0; i < kh; i++)
        for (long j = 0; j < kw; j++)
        {
            var window = channelsLast.slice(1, i, i + sh * (ho - 1) + 1, sh).slice(2, j, j + sw * (wo - 1) + 1, sw);
            var term = window.reshape(n * ho * wo, c).mm(taps[i, j]);
            // In place: a product's backward needs its inputs, never its output.
            y = y is null ? term : y.add_(term);
        }
        return y!.view(n, ho, wo, o).permute(0, 3, 1, 2);
    }
}
