using GanService.Gan.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Cpu;

/// <summary>
/// The generator's last layer and the frozen discriminator's first run on kernels of ours where the CPU has AVX-512
/// (<see cref="NarrowOutputLayer"/>, <see cref="NarrowInputLayer"/>): their outputs and gradients must be the
/// library's own, for grey and colour images, any image size and batch, in training and under no_grad (sampling).
/// </summary>
public class NarrowLayerTests
{
    [Avx512Theory]
    [InlineData(1, 28, 1)]
    [InlineData(5, 28, 3)]
    [InlineData(3, 32, 3)]
    [InlineData(2, 64, 1)]
    [InlineData(2, 7, 3)]
    [InlineData(1, 2, 3)]
    public void The_fast_output_layer_gives_the_librarys_images_and_gradients(int batch, int size, int channels)
    {
        using var layer = nn.ConvTranspose2d(64, channels, 3, stride: 1, padding: 1);
        using var rng = new torch.Generator(11);
        using var input = ChannelsLast.Of(randn(batch, 64, size, size, generator: rng));
        Assert.True(
            NarrowOutputLayer.Fits(layer, input),
            "the DCGAN's output layer on channels-last input takes the kernel"
        );

        var reference = Gradients(layer, input, layer.call);
        var fast = Gradients(layer, input, x => NarrowOutputLayer.Apply(layer, x));
        AssertClose(reference.Output, fast.Output, "images");
        AssertClose(reference.Input, fast.Input, "input gradient");
        AssertClose(reference.Weight, fast.Weight, "weight gradient");
        AssertClose(reference.Bias, fast.Bias, "bias gradient");
        using (no_grad())
        using (var sampled = NarrowOutputLayer.Apply(layer, input))
            AssertClose(reference.Output, sampled, "images under no_grad");
    }

    [Fact]
    public void Inputs_the_kernel_does_not_take_go_to_the_library_and_give_the_same_images()
    {
        using var layer = nn.ConvTranspose2d(64, 3, 3, stride: 1, padding: 1);
        using var nchw = randn(2, 64, 9, 9);
        using var wide = nn.ConvTranspose2d(64, 8, 3, stride: 1, padding: 1);
        Assert.False(NarrowOutputLayer.Fits(layer, nchw));
        Assert.False(NarrowOutputLayer.Fits(wide, ChannelsLast.Of(nchw)));
        Assert.False(NarrowOutputLayer.Fits(layer, ChannelsLast.Of(nchw).to(ScalarType.Float64)));
        using var _ = no_grad();
        AssertClose(layer.call(nchw), NarrowOutputLayer.Apply(layer, nchw), "NCHW images");
    }

    [Avx512Theory]
    [InlineData(5, 28, 3)]
    [InlineData(1, 28, 1)]
    [InlineData(2, 64, 3)]
    [InlineData(3, 7, 3)]
    [InlineData(2, 9, 1)]
    [InlineData(1, 1, 3)]
    public void The_frozen_discriminators_first_layer_gives_the_librarys_scores_and_image_gradients(
        int batch,
        int size,
        int channels
    )
    {
        using var layer = nn.Conv2d(channels, 64, 3, stride: 2, padding: 1);
        using var rng = new torch.Generator(13);
        using var images = ChannelsLast.Of(randn(batch, channels, size, size, generator: rng));
        foreach (var p in layer.parameters())
            p.requires_grad = false; // the G update freezes D
        var x = images.detach().clone().requires_grad_(true);
        Assert.True(NarrowInputLayer.Fits(layer, x));

        var (reference, referenceGrad) = InputGradient(layer.call, x);
        var (fast, fastGrad) = InputGradient(h => NarrowInputLayer.Apply(layer, h), x);
        AssertClose(reference, fast, "features");
        AssertClose(referenceGrad, fastGrad, "image gradient");
    }

    [Fact]
    public void The_discriminators_own_update_keeps_the_librarys_layer()
    {
        // D's update wants weight gradients, which the kernel does not compute: the module must run then.
        using var layer = nn.Conv2d(3, 64, 3, stride: 2, padding: 1);
        using var images = randn(2, 3, 28, 28).requires_grad_(true);
        Assert.False(NarrowInputLayer.Fits(layer, images));
        using var real = randn(2, 3, 28, 28);
        foreach (var p in layer.parameters())
            p.requires_grad = false;
        Assert.False(NarrowInputLayer.Fits(layer, real)); // nothing wants a gradient at all
        using (no_grad())
            Assert.False(NarrowInputLayer.Fits(layer, images));
    }

    private static (Tensor Output, Tensor Gradient) InputGradient(Func<Tensor, Tensor> forward, Tensor x)
    {
        x.grad?.zero_();
        var output = forward(x);
        using var projection = linspace(-1, 2, output.numel()).reshape(output.shape);
        using var objective = (output * projection).sum();
        objective.backward();
        return (output.detach(), x.grad!.clone());
    }

    private sealed record Result(Tensor Output, Tensor Input, Tensor Weight, Tensor Bias);

    private static Result Gradients(
        TorchSharp.Modules.ConvTranspose2d layer,
        Tensor input,
        Func<Tensor, Tensor> forward
    )
    {
        layer.zero_grad();
        var x = input.detach().clone().requires_grad_(true);
        var output = forward(x);
        // Not symmetric about 0: the bias gradient of a one-channel output is the sum of this projection.
        using var projection = linspace(-1, 2, output.numel()).reshape(output.shape);
        using var objective = (output * projection).sum();
        objective.backward();
        return new Result(output.detach(), x.grad!.clone(), layer.weight.grad!.clone(), layer.bias!.grad!.clone());
    }

    private static void AssertClose(Tensor reference, Tensor actual, string what)
    {
        Assert.Equal(reference.shape, actual.shape);
        double error = reference.sub(actual).norm().item<float>() / (reference.norm().item<float>() + 1e-12);
        Assert.True(error < 1e-5, $"{what}: relative error {error:E2}");
    }
}

/// <summary>
/// A theory that skips, rather than fails, on a CPU without AVX-512, where the library's own layer runs.
/// </summary>
public sealed class Avx512TheoryAttribute : TheoryAttribute
{
    public Avx512TheoryAttribute()
    {
        if (!NarrowOutputKernel.Supported)
            Skip = "This CPU has no AVX-512; the output layer runs in libtorch.";
    }
}
