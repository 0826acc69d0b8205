using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Cpu;

/// <summary>
/// A generator's last layer, a 3x3 stride-1 transposed convolution to one or three channels, run by
/// <see cref="NarrowOutputKernel"/> where it can be, since libtorch's oneDNN pads those channels to 16. The backward
/// pass stays libtorch's, whose kernels for it block the 64 input channels and are fast. Anywhere the kernel does not
/// apply (no AVX-512, another device or type, NCHW input, other shapes) the module runs as is. The module keeps its
/// parameters and checkpoint names either way.
/// </summary>
public static class NarrowOutputLayer
{
    public static Tensor Apply(ConvTranspose2d layer, Tensor x) =>
        Fits(layer, x) ? Function.apply(x, layer.weight, layer.bias!) : Convolutions.Call(layer, x);

    internal static bool Fits(ConvTranspose2d layer, Tensor x) =>
        FastPaths.Current.Output
        && NarrowOutputKernel.Supported
        && layer.bias is not null
        && Backward.Value is not null
        && layer.out_channels is 1 or 3
        && layer.in_channels % NarrowOutputKernel.ChannelBlock == 0
        && layer.groups == 1
        && layer.kernel_size is [3, 3]
        && layer.stride is [1, 1]
        && layer.padding is [1, 1]
        && layer.dilation is [1, 1]
        && layer.output_padding is [0, 0]
        && layer.padding_mode == PaddingModes.Zeros
        && x.device_type == DeviceType.CPU
        && x.dtype == ScalarType.Float32
        && layer.weight.dtype == ScalarType.Float32
        && x.dim() == 4
        && x.shape[1] == layer.in_channels
        && x.shape[2] * x.shape[3] > 0
        && x.shape[0] > 0
        && x.permute(0, 2, 3, 1).is_contiguous()
        // The backward pass is libtorch's for this geometry: only where libtorch gets it right (Convolutions).
        && Convolutions.LibtorchRight(
            new(true, layer.in_channels, layer.out_channels, 3, 3, 1, 1, 1, 1, 0, 0, 1, x.shape[2], x.shape[3])
        );

    /// <summary>
    /// libtorch's own backward of this transposed convolution (input, weight and bias gradients in one oneDNN call, as
    /// autograd would run it), which TorchSharp does not bind but TorchScript reaches; it beat both kernels of ours and
    /// autograd. Compiled once; where it cannot be (another libtorch), the layer runs as the module: an error inside a
    /// backward pass would end the process.
    /// </summary>
    private static readonly Lazy<jit.CompilationUnit?> Backward = new(() =>
    {
        try
        {
            return jit.compile(
                """
                def narrow_output_backward(grad: Tensor, x: Tensor, weight: Tensor) -> List[Tensor]:
                    dx, dw, db = torch.convolution_backward(grad, x, weight, [weight.size(1)],
                        [1, 1], [1, 1], [1, 1], True, [0, 0], 1, [True, True, True])
                    return [dx, dw, db]

                """
            ); // the script must end with a newline
        }
        catch (System.Runtime.InteropServices.ExternalException)
        {
            return null;
        }
    });

    private sealed unsafe class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(NarrowOutputLayer);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, weight, bias) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
            int batch = (int)x.shape[0],
                channels = (int)x.shape[1],
                height = (int)x.shape[2],
                width = (int)x.shape[3];
            int outputs = (int)weight.shape[1];
            // [kh, kw, out, in]: a tap's channels in a row
            using var taps = weight.detach().permute(2, 3, 1, 0).contiguous();
            using var offsets = bias.detach().contiguous();
            var y = ChannelsLast.Empty(batch, outputs, height, width);
            using (var source = x.permute(0, 2, 3, 1))
            using (var target = y.permute(0, 2, 3, 1))
                fixed (
                    byte* px = source.bytes,
                        pt = taps.bytes,
                        pb = offsets.bytes,
                        py = target.bytes
                )
                {
                    float* input = (float*)px,
                        weights = (float*)pt,
                        biases = (float*)pb,
                        output = (float*)py;
                    NarrowOutputKernel.ForRows(batch * height, (first, last) =>
                    {
                        if (outputs == 3)
                            NarrowOutputKernel.Rows<ThreeChannels>(
                                input,
                                weights,
                                biases,
                                output,
                                height,
                                width,
                                channels,
                                first,
                                last
                            );
                        else
                            NarrowOutputKernel.Rows<OneChannel>(
                                input,
                                weights,
                                biases,
                                output,
                                height,
                                width,
                                channels,
                                first,
                                last
                            );
                    });
                }
            // Plain references, not saved variables: TorchSharp releases a custom node's saved variables only when the
            // garbage collector finalises it. The caller's dispose scope owns x, the weights are the module's, and
            // neither changes before the backward pass (the optimizer steps after it).
            ctx.save_data(nameof(Inputs), new Inputs(x, weight));
            return y;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
        {
            var (x, weight) = (Inputs)ctx.get_data(nameof(Inputs));
            using var input = x.detach();
            using var weights = weight.detach();
            var gradients = (Tensor[])Backward.Value!.invoke("narrow_output_backward", grad, input, weights);
            return [gradients[0], gradients[1], gradients[2]];
        }

        private sealed record Inputs(Tensor X, Tensor Weight);
    }
}
