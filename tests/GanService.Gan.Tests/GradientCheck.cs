using GanService.Gan.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>
/// libtorch-cpu 2.10 computes some convolution input gradients wrongly in float32 (docs/performance.md, libtorch
/// workarounds): every network's input and weight gradients must agree with a float64 copy of the same weights.
/// </summary>
internal static class GradientCheck
{
    public static void AssertMatchesFloat64(Func<nn.Module> build, Tensor input, Tensor? labels = null)
    {
        // Every temporary is the scope's, none the finalizer's: the comparison's float64 subtraction once read a
        // gradient the finalizer had freed (a crashed test host, see finalizer_quarantine.c).
        using var scope = NewDisposeScope();
        using var single = build();
        using var wide = build();
        using var rng = new torch.Generator(9);
        Initialization.Apply(single, rng);
        wide.load_state_dict(single.state_dict());
        wide.to(ScalarType.Float64);
        var (input32, weights32) = Gradients(single, input, labels);
        var (input64, weights64) = Gradients(wide, input.to(ScalarType.Float64), labels);
        AssertClose(input64, input32, $"{single.GetName()} input gradient");
        AssertClose(weights64, weights32, $"{single.GetName()} weight gradient");
    }

    private static (Tensor Input, Tensor Weights) Gradients(nn.Module module, Tensor input, Tensor? labels)
    {
        module.train();
        var x = input.detach().clone().requires_grad_(true);
        using var output = GanNetworks.Call(module, x, labels);
        using var projection = linspace(-1, 1, output.numel(), dtype: output.dtype).reshape(output.shape);
        using var objective = (output * projection).sum();
        objective.backward();
        var weights = cat(module.parameters().Select(p => p.grad!.flatten()).ToList(), 0);
        return (x.grad!, weights);
    }

    private static void AssertClose(Tensor reference, Tensor actual, string what)
    {
        // Relative to the whole gradient's norm: float32 rounding through batch norm stays below about 2e-3, while
        // the broken kernel was off by up to 0.5 or NaN.
        double error =
            reference.sub(actual.to(ScalarType.Float64)).norm().item<double>()
            / (reference.norm().item<double>() + 1e-12);
        Assert.False(double.IsNaN(error), $"{what}: NaN");
        Assert.True(error < 5e-3, $"{what}: relative error {error:E2}");
    }
}
