using System.Diagnostics;
using GanService.Gan.Models;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

/// <summary>
/// This machine's ceiling, measured in the same run as the training figures: a 2048x2048 fp32 matmul and the
/// DCGAN's busiest layer (64 -> 64, 4x4, stride 2 transposed convolution to 28x28 at batch 64), both forward only.
/// </summary>
internal static class Peak
{
    public static double MatmulGflops(int warmups = 3, int runs = 10)
    {
        const int n = 2048;
        using var a = randn(n, n);
        using var b = randn(n, n);
        return Best(
            () =>
            {
                using var c = a.matmul(b);
            },
            2.0 * n * n * n,
            warmups,
            runs
        );
    }

    /// <summary>A shorter reading (best of 5 after 1 warm-up, about half a second) for the interleaved turns.</summary>
    public static double MatmulTurn() => MatmulGflops(1, 5);

    /// <summary>
    /// Runs a measurement between two matmul peaks and returns their mean with it: this shared machine's peak drifts
    /// by a third within minutes, so a training figure is only comparable with the peak of the same minutes.
    /// </summary>
    public static async Task<(T Result, double Peak)> Around<T>(Func<Task<T>> measure)
    {
        double before = MatmulGflops();
        var result = await measure();
        return (result, (before + MatmulGflops()) / 2);
    }

    public static double ConvolutionGflops()
    {
        using var layer = nn.ConvTranspose2d(64, 64, 4, stride: 2, padding: 1, bias: false);
        using var input = randn(64, 64, 14, 14);
        using var _ = no_grad();
        return Best(
            () =>
            {
                using var y = layer.call(input);
            },
            2.0 * 64 * 64 * 16 * 14 * 14 * 64
        );
    }

    /// <summary>The best of the timed runs after the warm-ups, in GFLOP/s.</summary>
    private static double Best(Action run, double flops, int warmups = 3, int runs = 10) =>
        Torch.OnOwnThread(() =>
        {
            for (int i = 0; i < warmups; i++)
                run();
            double best = double.MaxValue;
            for (int i = 0; i < runs; i++)
            {
                var clock = Stopwatch.StartNew();
                run();
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }
            return flops / best / 1e9;
        });
}

/// <summary>
/// FLOPs of one DCGAN training step, counted analytically: 2 x multiply-adds of every linear, convolution and
/// transposed convolution (batch norm, activations and the optimizer are memory-bound and left out, a few percent).
/// A backward pass costs twice its forward (input and weight gradients); the first D layer needs no input gradient
/// and D's weights are frozen during the G update, as the trainer does.
/// </summary>
internal static class StepFlops
{
    public static double Dcgan(ModelRecipe recipe, int batch, bool sharedForward)
    {
        var (baseSize, blocks) = GanService.Gan.Models.Dcgan.Geometry(recipe.ImageSize);
        const double F = DcganGenerator.Filters;
        double g = 2 * recipe.LatentSize * F * baseSize * baseSize;
        long side = baseSize;
        for (int i = 0; i < blocks; i++, side *= 2)
            g += 2 * F * F * 16 * side * side; // per input pixel of each 4x4 stride-2 layer
        g += 2 * F * recipe.Channels * 9 * side * side;
        double dFirst = 0,
            dRest = 0;
        long d = recipe.ImageSize;
        for (int i = 0; i < blocks; i++)
        {
            d = (d + 1) / 2;
            double layer = 2 * (i == 0 ? recipe.Channels : F) * F * 9 * d * d;
            if (i == 0)
                dFirst = layer;
            else
                dRest += layer;
        }
        dRest += 2 * F * d * d;
        double dForward = dFirst + dRest;
        // D update: G forward (no graph), D forward real and fake, backward both (weights; input grads past layer 1).
        double dUpdate = (sharedForward ? 0 : g) + 2 * dForward + 2 * (dForward + dRest);
        // G update: G forward (the one shared with the D update, if so), D forward, D input gradients only, G backward.
        double gUpdate = g + dForward + dForward + 2 * g;
        return batch * (dUpdate + gUpdate);
    }
}
