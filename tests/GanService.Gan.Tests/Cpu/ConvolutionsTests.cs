using GanService.Gan.Cpu;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Cpu;

/// <summary>
/// The library's convolutions against float64, on every CPU: where libtorch's oneDNN is right they are libtorch's,
/// where it is wrong (OneDnnCheck) the wrong geometries run on the reference convolution, which must be right too.
/// </summary>
public class ConvolutionsTests
{
    // Shapes oneDNN got wrong on a Zen 5 CPU, DCGAN's shapes, and every path of the reference convolution: strides,
    // output padding, padding beyond the kernel (a crop), groups, no bias.
    public static TheoryData<Convolutions.Geometry> Geometries() =>
        new()
        {
            Plain(24, 24, 3, stride: 1, padding: 1),
            Plain(64, 3, 3, stride: 1, padding: 1),
            Plain(65, 64, 4, stride: 2, padding: 1),
            Plain(3, 64, 3, stride: 2, padding: 1),
            Plain(64, 64, 3, stride: 2, padding: 1),
            Plain(512, 1, 4, stride: 1, padding: 1),
            Plain(16, 16, 3, stride: 1, padding: 1, groups: 4),
            Transposed(74, 64, 4, stride: 2, padding: 1),
            Transposed(8, 8, 3, stride: 1, padding: 1),
            Transposed(64, 3, 3, stride: 1, padding: 1),
            Transposed(32, 16, 3, stride: 2, padding: 1, outputPadding: 1),
            Transposed(24, 3, 7, stride: 1, padding: 6),
            Transposed(16, 8, 4, stride: 2, padding: 1, groups: 2),
        };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void The_library_convolution_matches_float64(Convolutions.Geometry geometry)
    {
        double error = Convolutions.Error(geometry, Library);
        Assert.True(error < 1e-4, $"{geometry}: relative error {error:G3} ({OneDnnCheck.Ensure()})");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Gradient_penalties_through_the_library_convolution_match_float64(Convolutions.Geometry geometry)
    {
        using var _ = SecondOrder.Gradients();
        double error = Convolutions.Error(geometry, Library, secondOrder: true);
        Assert.True(error < 1e-4, $"{geometry}: relative error {error:G3} ({OneDnnCheck.Ensure()})");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void The_reference_convolution_matches_float64(Convolutions.Geometry geometry)
    {
        Assert.True(ReferenceConvolution.Available);
        double error = Convolutions.Error(geometry, ReferenceConvolution.Apply);
        Assert.True(error < 1e-4, $"{geometry}: relative error {error:G3}");
        using var _ = SecondOrder.Gradients();
        error = Convolutions.Error(geometry, ReferenceConvolution.Apply, secondOrder: true);
        Assert.True(error < 1e-4, $"{geometry}: second order, relative error {error:G3}");
    }

    [Fact]
    public void A_bias_free_reference_convolution_equals_libtorch_in_float64()
    {
        var geometry = Plain(8, 4, 3, stride: 2, padding: 1);
        using var scope = NewDisposeScope();
        var x = randn(2, 8, 9, 9, dtype: float64);
        var w = randn(4, 8, 3, 3, dtype: float64);
        var expected = Convolutions.Libtorch(geometry with { Height = 9, Width = 9 }, x, w, null);
        var actual = ReferenceConvolution.Apply(geometry, x, w, null);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.allclose(actual, rtol: 1e-9, atol: 1e-9));
    }

    private static Tensor Library(Convolutions.Geometry g, Tensor x, Tensor w, Tensor? b) =>
        g.Transposed
            ? Convolutions.ConvTranspose2d(
                x,
                w,
                b,
                (g.StrideHeight, g.StrideWidth),
                (g.PaddingHeight, g.PaddingWidth),
                (g.OutputPaddingHeight, g.OutputPaddingWidth),
                g.Groups
            )
            : Convolutions.Conv2d(
                x,
                w,
                b,
                (g.StrideHeight, g.StrideWidth),
                (g.PaddingHeight, g.PaddingWidth),
                g.Groups
            );

    private static Convolutions.Geometry Plain(
        long inChannels,
        long outChannels,
        long kernel,
        long stride,
        long padding,
        long groups = 1
    ) => new(false, inChannels, outChannels, kernel, kernel, stride, stride, padding, padding, 0, 0, groups, 12, 12);

    private static Convolutions.Geometry Transposed(
        long inChannels,
        long outChannels,
        long kernel,
        long stride,
        long padding,
        long outputPadding = 0,
        long groups = 1
    ) =>
        new(
            true,
            inChannels,
            outChannels,
            kernel,
            kernel,
            stride,
            stride,
            padding,
            padding,
            outputPadding,
            outputPadding,
            groups,
            12,
            12
        );
}
