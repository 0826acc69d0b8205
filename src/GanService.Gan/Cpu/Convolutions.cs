using System.Collections.Concurrent;
using GanService.Gan.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Cpu;

/// <summary>
/// Every convolution of the library's networks, routed around the ones libtorch's oneDNN gets wrong on this CPU.
/// Where <see cref="OneDnnCheck"/> found oneDNN wrong (<see cref="OneDnnCheck.Verdict.Routed"/>), each geometry
/// (channels, kernel, stride, padding, groups, input size) is compared with float64 once, on first use, and the
/// geometries that disagree run on libtorch's reference convolution (im2col and a matrix product, the kernel
/// libtorch itself uses without oneDNN); every other convolution keeps oneDNN, and DCGAN's layers keep their speed.
/// Where oneDNN passed the check this adds a dictionary lookup per convolution.
/// </summary>
/// <remarks>
/// Not routed: dilated convolutions (none of the library's networks has one) and other devices or types.
/// </remarks>
public static class Convolutions
{
    /// <summary>
    /// A convolution's shape. For transposed ones In and Out are the layer's input and output channels.
    /// </summary>
    public readonly record struct Geometry(
        bool Transposed,
        long In,
        long Out,
        long KernelHeight,
        long KernelWidth,
        long StrideHeight,
        long StrideWidth,
        long PaddingHeight,
        long PaddingWidth,
        long OutputPaddingHeight,
        long OutputPaddingWidth,
        long Groups,
        long Height,
        long Width
    );

    private static readonly ConcurrentDictionary<Geometry, Lazy<bool>> Wrong = new();

    /// <summary>The geometries found wrong in this process, for logs and the benchmarks' header.</summary>
    public static IReadOnlyList<Geometry> Routed =>
        Wrong.Where(e => e.Value.IsValueCreated && e.Value.Value).Select(e => e.Key).ToList();

    public static Tensor Call(Conv2d layer, Tensor x) =>
        layer.padding_mode != PaddingModes.Zeros || layer.dilation is not [1, 1] || layer.padding is null
            ? layer.call(x)
            : Conv2d(
                x,
                layer.weight,
                layer.bias,
                (layer.stride[0], layer.stride[1]),
                (layer.padding[0], layer.padding[1]),
                layer.groups
            );

    public static Tensor Call(ConvTranspose2d layer, Tensor x) =>
        layer.padding_mode != PaddingModes.Zeros || layer.dilation is not [1, 1] || layer.padding is null
            ? layer.call(x)
            : ConvTranspose2d(
                x,
                layer.weight,
                layer.bias,
                (layer.stride[0], layer.stride[1]),
                (layer.padding[0], layer.padding[1]),
                (layer.output_padding[0], layer.output_padding[1]),
                layer.groups
            );

    public static Tensor Conv2d(
        Tensor x,
        Tensor weight,
        Tensor? bias,
        (long H, long W) stride,
        (long H, long W) padding,
        long groups = 1
    )
    {
        var geometry = new Geometry(
            false,
            x.shape[1],
            weight.shape[0],
            weight.shape[2],
            weight.shape[3],
            stride.H,
            stride.W,
            padding.H,
            padding.W,
            0,
            0,
            groups,
            x.shape[2],
            x.shape[3]
        );
        return NeedsReference(geometry, x, weight)
            ? ReferenceConvolution.Apply(geometry, x, weight, bias)
            : Libtorch(geometry, x, weight, bias);
    }

    public static Tensor Conv2d(
        Tensor x,
        Tensor weight,
        Tensor? bias,
        long stride = 1,
        long padding = 0,
        long groups = 1
    ) => Conv2d(x, weight, bias, (stride, stride), (padding, padding), groups);

    public static Tensor ConvTranspose2d(
        Tensor x,
        Tensor weight,
        Tensor? bias,
        (long H, long W) stride,
        (long H, long W) padding,
        (long H, long W) outputPadding,
        long groups = 1
    )
    {
        var geometry = new Geometry(
            true,
            x.shape[1],
            weight.shape[1] * groups,
            weight.shape[2],
            weight.shape[3],
            stride.H,
            stride.W,
            padding.H,
            padding.W,
            outputPadding.H,
            outputPadding.W,
            groups,
            x.shape[2],
            x.shape[3]
        );
        return NeedsReference(geometry, x, weight)
            ? ReferenceConvolution.Apply(geometry, x, weight, bias)
            : Libtorch(geometry, x, weight, bias);
    }

    /// <summary>
    /// Whether libtorch gets this geometry right, or may be trusted to (false only where the process routes it).
    /// </summary>
    public static bool LibtorchRight(Geometry geometry) =>
        OneDnnCheck.Ensure() != OneDnnCheck.Verdict.Routed || !Wrong.GetOrAdd(geometry, Check).Value;

    /// <summary>
    /// Inside a <see cref="SecondOrder"/> scope on such a CPU every convolution takes the reference: the derivatives of
    /// libtorch's convolution backward are further oneDNN convolutions of other geometries (one of which never
    /// returned here), and a gradient penalty through geometries right in the first order still came out wrong.
    /// </summary>
    private static bool NeedsReference(Geometry geometry, Tensor x, Tensor weight) =>
        x.device_type == DeviceType.CPU
        && x.dtype == ScalarType.Float32
        && weight.dtype == ScalarType.Float32
        && (SecondOrder.Active ? OneDnnCheck.Ensure() == OneDnnCheck.Verdict.Routed : !LibtorchRight(geometry));

    internal static Tensor Libtorch(Geometry g, Tensor x, Tensor weight, Tensor? bias) =>
        g.Transposed
            ? nn.functional.conv_transpose2d(
                x,
                weight,
                bias,
                strides: [g.StrideHeight, g.StrideWidth],
                padding: [g.PaddingHeight, g.PaddingWidth],
                output_padding: [g.OutputPaddingHeight, g.OutputPaddingWidth],
                groups: g.Groups
            )
            : nn.functional.conv2d(
                x,
                weight,
                bias,
                strides: [g.StrideHeight, g.StrideWidth],
                padding: [g.PaddingHeight, g.PaddingWidth],
                groups: g.Groups
            );

    private static Lazy<bool> Check(Geometry geometry) =>
        new(() => Compare(geometry), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// libtorch's output and gradients for a batch of 4 against float64 (which oneDNN never runs), on a thread of its
    /// own with one libtorch thread: the failure was certain there, and neither the caller's dispose scope, grad mode
    /// nor thread count leaks in. If the reference convolution is wrong as well, nothing here can be trusted: the
    /// caller gets an exception, not a network trained on wrong gradients.
    /// </summary>
    private static bool Compare(Geometry geometry) => TorchRuntime.RunOnOwnThread("convolution-check", 1, () =>
        {
            if (Error(geometry, Libtorch) < Tolerance)
                return false;
            double reference = Error(geometry, ReferenceConvolution.Apply);
            return reference < Tolerance
                ? true
                : throw new InvalidOperationException(
                    $"Both oneDNN's and libtorch's reference convolution disagree with float64 for {geometry} "
                        + $"(relative error {reference:G3})."
                );
        });

    // Right results differ from float64 by about 1e-6 of their largest value; the wrong ones by 0.06 to NaN.
    private const double Tolerance = 1e-3;

    /// <summary>
    /// The largest relative error against float64 of a convolution's output and its input and weight gradients or,
    /// with <paramref name="secondOrder"/>, of the weight gradient of a penalty on its input gradient.
    /// </summary>
    internal static double Error(
        Geometry g,
        Func<Geometry, Tensor, Tensor, Tensor?, Tensor> convolve,
        bool secondOrder = false
    )
    {
        using var scope = NewDisposeScope();
        using var rng = new torch.Generator(20261202);
        long[] weightShape = g.Transposed
            ? [g.In, g.Out / g.Groups, g.KernelHeight, g.KernelWidth]
            : [g.Out, g.In / g.Groups, g.KernelHeight, g.KernelWidth];
        var x = randn([4, g.In, g.Height, g.Width], generator: rng);
        var w = randn(weightShape, generator: rng)
            .mul_(1 / Math.Sqrt(g.In / g.Groups * g.KernelHeight * g.KernelWidth));
        var b = randn(g.Out, generator: rng);
        Tensor? dy = null,
            dx = null;
        Tensor[] Run(Func<Geometry, Tensor, Tensor, Tensor?, Tensor> run, ScalarType type)
        {
            var (xt, wt, bt) = (
                x.detach().to(type).requires_grad_(true),
                w.detach().to(type).requires_grad_(true),
                b.detach().to(type).requires_grad_(true)
            );
            var y = run(g, xt, wt, bt);
            dy ??= randn(y.shape, generator: rng);
            if (!secondOrder)
            {
                y.backward([dy.to(type)]);
                return [y, xt.grad!, wt.grad!];
            }
            var gradient = autograd.grad([(y * dy.to(type)).sum()], [xt], retain_graph: true, create_graph: true)[0];
            dx ??= randn(gradient.shape, generator: rng);
            (gradient * dx.to(type)).sum().backward();
            // the input gradient is linear in the input: only the weights get a second-order gradient
            return [wt.grad!];
        }
        var actual = Run(convolve, ScalarType.Float32);
        var expected = Run(Libtorch, ScalarType.Float64);
        return actual.Zip(expected, Relative).Max();
    }

    private static double Relative(Tensor value, Tensor reference)
    {
        double error =
            (value.to(float64) - reference).abs().max().item<double>() / (reference.abs().max().item<double>() + 1e-12);
        return double.IsFinite(error) ? error : double.PositiveInfinity;
    }
}
