using System.Diagnostics;
using GanService.Gan.Cpu;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

/// <summary>
/// Where a DCGAN step's time goes: each layer of the real generator and discriminator (28x28, batch 64) timed on
/// its own, forward and forward + backward, in training mode, fed the activations the layer before it produced.
/// Convolutions and dense layers also get GFLOP/s (counted as in <see cref="StepFlops"/>), so a layer running far
/// below the matmul peak stands out; the memory-bound layers (batch norm, activations) show their milliseconds.
/// Layers run channels-last, as the networks run them (<see cref="ChannelsLast"/>); the last column times the same
/// layer on the default NCHW layout, the before of that change (and of the output layer's kernel, which needs
/// channels-last input).
/// </summary>
internal static class LayerBenchmark
{
    private const int Batch = 64,
        Repeats = 20;

    public static void Run(int channels, double matmulPeak)
    {
        var recipe = new ModelRecipe(ImageSize: 28, Channels: channels);
        Console.WriteLine();
        Console.WriteLine(
            $"| layer (DCGAN 28x28x{channels}, batch 64) | input | forward ms | backward ms | share of G or D | "
                + "GFLOP/s (fwd+bwd) | of matmul peak | NCHW fwd+bwd ms |"
        );
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        using (var generator = GanNetworks.Generator(recipe))
        using (var latents = randn(Batch, recipe.LatentSize))
            Profile("G", generator, latents, matmulPeak);
        using (var discriminator = GanNetworks.Discriminator(recipe))
        using (var images = rand(Batch, channels, 28, 28) * 2 - 1)
            Profile("D", discriminator, images, matmulPeak);
    }

    /// <summary>Times each leaf module in order; the DCGAN networks are plain chains, so each feeds the next.</summary>
    private static void Profile(string network, nn.Module model, Tensor input, double matmulPeak)
    {
        model.train();
        var rows = new List<(string Name, string Shape, double Forward, double Backward, double Flops, double Nchw)>();
        var x = input.detach();
        // Registration order is not the forward order (D's classifier is listed first): order by the chain's parts.
        string[] chain = ["project", "upsample", "output", "features", "classifier"];
        var leaves = model
            .named_modules()
            .Where(m => m.module is nn.Module<Tensor, Tensor> && !m.module.named_children().Any())
            .OrderBy(m => Array.IndexOf(chain, m.name.Split('.')[0]));
        foreach (var (name, layer) in leaves)
        {
            var leaf = (nn.Module<Tensor, Tensor>)layer;
            using var scope = NewDisposeScope();
            var shape = string.Join("x", x.shape.Skip(1));
            var input1 = ChannelsLast.Of(x).detach().requires_grad_(true);
            var nchw = x.contiguous().detach().requires_grad_(true);
            double flops = Flops(layer, input1, Batch);
            // The generator's output layer runs as the network runs it: on GanService's kernel where it fits.
            Func<Tensor, Tensor> call = layer is ConvTranspose2d transposed
                ? t => NarrowOutputLayer.Apply(transposed, t)
                : leaf.call;
            bool kernel = layer is ConvTranspose2d t && NarrowOutputLayer.Fits(t, input1);
            double forward = Median(() =>
            {
                using var s = NewDisposeScope();
                call(input1);
            });
            double both = Median(() => ForwardBackward(layer, call, input1));
            double before = Median(() => ForwardBackward(layer, call, nchw));
            rows.Add(
                (
                    $"{network} {layer.GetType().Name} ({name}){(kernel ? ", GanService kernel" : "")}",
                    shape,
                    forward,
                    Math.Max(0, both - forward),
                    flops,
                    before
                )
            );
            using (no_grad())
                x = leaf.call(x).detach().MoveToOuterDisposeScope();
        }
        double total = rows.Sum(r => r.Forward + r.Backward);
        foreach (var r in rows)
        {
            double gflops = r.Flops > 0 ? 3 * r.Flops / ((r.Forward + r.Backward) / 1000) / 1e9 : 0;
            Console.WriteLine(
                $"| {r.Name} | {r.Shape} | {r.Forward:F2} | {r.Backward:F2} | {(r.Forward + r.Backward) / total:P0} | "
                    + $"{(r.Flops > 0 ? gflops.ToString("F0") : "")} | "
                    + $"{(r.Flops > 0 ? (gflops / matmulPeak).ToString("P0") : "")} | {r.Nchw:F2} |"
            );
        }
        Console.WriteLine(
            $"| {network} total | | {rows.Sum(r => r.Forward):F2} | {rows.Sum(r => r.Backward):F2} | 100% | | | "
                + $"{rows.Sum(r => r.Nchw):F2} |"
        );
    }

    private static void ForwardBackward(nn.Module layer, Func<Tensor, Tensor> call, Tensor input)
    {
        using var s = NewDisposeScope();
        var y = call(input);
        y.backward([ones_like(y)]);
        layer.zero_grad();
        input.grad?.zero_();
    }

    /// <summary>
    /// 2 x multiply-adds of one forward pass: weights times output pixels (convolution) or input pixels (transposed).
    /// </summary>
    private static double Flops(nn.Module layer, Tensor input, int batch) =>
        layer switch
        {
            Linear linear => 2.0 * linear.weight!.numel() * batch,
            Conv2d conv => 2.0 * conv.weight!.numel() * batch * OutputPixels(conv, input),
            ConvTranspose2d deconv => 2.0 * deconv.weight!.numel() * batch * input.shape[2] * input.shape[3],
            _ => 0,
        };

    private static long OutputPixels(Conv2d conv, Tensor input)
    {
        using var _ = no_grad();
        using var y = conv.call(input[..1]);
        return y.shape[2] * y.shape[3];
    }

    private static double Median(Action run)
    {
        for (int i = 0; i < 3; i++)
            run();
        var times = new double[Repeats];
        for (int i = 0; i < Repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        return Stopwatches.Median(times);
    }
}
