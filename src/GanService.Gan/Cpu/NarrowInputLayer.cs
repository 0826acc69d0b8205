using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Cpu;

/// <summary>
/// A discriminator's first layer, a 3x3 stride-2 convolution from one or three channels, in the generator's update:
/// D is frozen and only the gradient for the fake images is wanted. oneDNN pads that gradient's 1 or 3 channels to 16;
/// here the forward pass is libtorch's and the input gradient a kernel of ours (AVX-512, channels-last). Everywhere
/// else (D's own update, where the weights want gradients; no AVX-512; other devices, types or shapes) the module runs
/// as is.
/// </summary>
public static class NarrowInputLayer
{
    public static Tensor Apply(Conv2d layer, Tensor x) =>
        Fits(layer, x) ? Function.apply(x, new Frozen(layer, FastPaths.Current)) : Convolutions.Call(layer, x);

    internal static bool Fits(Conv2d layer, Tensor x) =>
        FastPaths.Current.Input
        && layer.in_channels is 1 or 3
        && NarrowOutputKernel.Supported
        && is_grad_enabled()
        && x.requires_grad
        && !layer.weight.requires_grad
        && layer.bias is not { requires_grad: true }
        && layer.out_channels % GradientKernel.ChannelGroup == 0
        && layer.groups == 1
        && layer.kernel_size is [3, 3]
        && layer.stride is [2, 2]
        && layer.padding is [1, 1]
        && layer.dilation is [1, 1]
        && layer.padding_mode == PaddingModes.Zeros
        && x.device_type == DeviceType.CPU
        && x.dtype == ScalarType.Float32
        && layer.weight.dtype == ScalarType.Float32
        && x.dim() == 4
        && x.shape[1] == layer.in_channels
        && x.shape[0] > 0
        && x.shape[2] > 0
        && x.shape[3] > 0;

    /// <summary>
    /// The layer, passed as an object so that autograd sees one differentiable input, the images; with the fast paths
    /// of the forward pass, for the backward's kernel.
    /// </summary>
    private sealed record Frozen(Conv2d Layer, FastPaths Paths);

    private sealed unsafe class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(NarrowInputLayer);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, frozen) = ((Tensor)vars[0], (Frozen)vars[1]);
            ctx.save_data(nameof(Frozen), (frozen, x.shape));
            return Convolutions.Call(frozen.Layer, x);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
        {
            var (frozen, shape) = ((Frozen, long[]))ctx.get_data(nameof(Frozen));
            using var forwardPaths = FastPaths.Use(frozen.Paths);
            int batch = (int)shape[0],
                channels = (int)shape[1],
                height = (int)shape[2],
                width = (int)shape[3];
            int outputs = (int)grad.shape[1],
                outHeight = (int)grad.shape[2],
                outWidth = (int)grad.shape[3];
            using var gradients = ChannelsLast.Of(grad).permute(0, 2, 3, 1); // [B, OH, OW, O], contiguous
            using var taps = frozen.Layer.weight.detach().permute(2, 3, 1, 0).contiguous(); // [kh, kw, in, out]
            var dx = ChannelsLast.Empty(batch, channels, height, width);
            using var target = dx.permute(0, 2, 3, 1);
            var geometry = new GradientKernel.Geometry(height, width, outHeight, outWidth, outputs);
            fixed (
                byte* pg = gradients.bytes,
                    pt = taps.bytes,
                    pd = target.bytes
            )
            {
                float* dy = (float*)pg,
                    weights = (float*)pt,
                    output = (float*)pd;
                NarrowOutputKernel.ForRows(batch * height, (first, last) =>
                {
                    if (channels == 3)
                        GradientKernel.Rows<ThreeChannels>(dy, weights, output, geometry, first, last);
                    else
                        GradientKernel.Rows<OneChannel>(dy, weights, output, geometry, first, last);
                });
            }
            return [dx, null!]; // nothing for the layer, which is not a tensor
        }
    }

    /// <summary>
    /// dx[p, c] = sum over the taps that reach input pixel p and over the output channels o of
    /// dy[q, o] w[kh, kw, c, o], where output pixel q = ((y + 1 - kh) / 2, (x + 1 - kw) / 2) for the taps whose
    /// offsets are even: one, two or four taps per pixel. Vectorised over the output channels, 64 at a time.
    /// </summary>
    internal static unsafe class GradientKernel
    {
        public const int ChannelGroup = 64;

        public readonly record struct Geometry(int Height, int Width, int OutHeight, int OutWidth, int Outputs);

        public static void Rows<TChannels>(float* dy, float* taps, float* dx, Geometry g, int firstRow, int lastRow)
            where TChannels : struct, IOutputChannels
        {
            int channels = TChannels.Count;
            for (int row = firstRow; row < lastRow; row++)
            {
                int image = row / g.Height,
                    y = row % g.Height;
                float* imageGradient = dy + (long)image * g.OutHeight * g.OutWidth * g.Outputs;
                float* target = dx + (long)row * g.Width * channels;
                for (int x = 0; x < g.Width; x++)
                    Pixel<TChannels>(imageGradient, taps, target + x * channels, g, y, x);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Pixel<TChannels>(float* imageGradient, float* taps, float* target, Geometry g, int y, int x)
            where TChannels : struct, IOutputChannels
        {
            int channels = TChannels.Count,
                outputs = g.Outputs;
            // Two accumulators per channel, for even and odd vectors, so the chains of dependent adds overlap.
            var a0 = Vector512<float>.Zero;
            var a1 = a0;
            var a2 = a0;
            var b0 = a0;
            var b1 = a0;
            var b2 = a0;
            for (int kh = (y + 1) & 1; kh < 3; kh += 2)
            {
                int oy = (y + 1 - kh) >> 1;
                if (oy < 0 || oy >= g.OutHeight)
                    continue;
                for (int kw = (x + 1) & 1; kw < 3; kw += 2)
                {
                    int ox = (x + 1 - kw) >> 1;
                    if (ox < 0 || ox >= g.OutWidth)
                        continue;
                    float* d = imageGradient + ((long)oy * g.OutWidth + ox) * outputs;
                    float* w = taps + (kh * 3 + kw) * channels * outputs;
                    for (int o = 0; o < outputs; o += ChannelGroup)
                    {
                        var d0 = Vector512.Load(d + o);
                        var d1 = Vector512.Load(d + o + 16);
                        var d2 = Vector512.Load(d + o + 32);
                        var d3 = Vector512.Load(d + o + 48);
                        a0 = Vector512.FusedMultiplyAdd(d0, Vector512.Load(w + o), a0);
                        b0 = Vector512.FusedMultiplyAdd(d1, Vector512.Load(w + o + 16), b0);
                        a0 = Vector512.FusedMultiplyAdd(d2, Vector512.Load(w + o + 32), a0);
                        b0 = Vector512.FusedMultiplyAdd(d3, Vector512.Load(w + o + 48), b0);
                        if (channels == 1)
                            continue; // a constant per instantiation: the JIT drops the rest
                        float* w1 = w + outputs + o,
                            w2 = w + 2 * outputs + o;
                        a1 = Vector512.FusedMultiplyAdd(d0, Vector512.Load(w1), a1);
                        b1 = Vector512.FusedMultiplyAdd(d1, Vector512.Load(w1 + 16), b1);
                        a1 = Vector512.FusedMultiplyAdd(d2, Vector512.Load(w1 + 32), a1);
                        b1 = Vector512.FusedMultiplyAdd(d3, Vector512.Load(w1 + 48), b1);
                        a2 = Vector512.FusedMultiplyAdd(d0, Vector512.Load(w2), a2);
                        b2 = Vector512.FusedMultiplyAdd(d1, Vector512.Load(w2 + 16), b2);
                        a2 = Vector512.FusedMultiplyAdd(d2, Vector512.Load(w2 + 32), a2);
                        b2 = Vector512.FusedMultiplyAdd(d3, Vector512.Load(w2 + 48), b2);
                    }
                }
            }
            target[0] = Vector512.Sum(a0 + b0);
            if (channels == 1)
                return;
            target[1] = Vector512.Sum(a1 + b1);
            target[2] = Vector512.Sum(a2 + b2);
        }
    }
}
