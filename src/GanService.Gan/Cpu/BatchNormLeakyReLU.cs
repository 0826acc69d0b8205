using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Cpu;

/// <summary>
/// A batch norm followed by LeakyReLU, the pair most DCGAN layers end with. In training mode on channels-last float32
/// CPU tensors it runs as one fused operation (<see cref="BatchNormLeakyReLUKernels"/>), since the pair is bound by
/// memory; anywhere else (evaluation, float64, NCHW, GPUs) it is the two library layers. The batch norm module keeps
/// its parameters, running statistics and checkpoint names either way.
/// </summary>
public static class BatchNormLeakyReLU
{
    /// <summary>
    /// With <paramref name="groups"/> above 1, x holds that many equal batches, each normalised with its own
    /// statistics (and the running statistics updated once per batch, in order): the same as calling the pair on each
    /// batch alone, in one call. With <paramref name="scratchInput"/> the caller hands x over: nothing else reads it
    /// after this block (a convolution's output, which that convolution's backward pass does not keep), and the
    /// backward pass writes the input gradient over it instead of into a new buffer.
    /// </summary>
    public static Tensor Apply(BatchNorm2d norm, Tensor x, double slope, int groups = 1, bool scratchInput = false)
    {
        if (groups < 1 || x.shape[0] % groups != 0)
            throw new ArgumentException(
                $"A batch of {x.shape[0]} does not split into {groups} equal groups.",
                nameof(groups)
            );
        var paths = FastPaths.Current;
        if (Fits(norm, x, groups, paths))
            return Function.apply(x, norm.weight!, norm.bias!, norm, slope, groups, scratchInput && paths.Reuse);
        if (groups == 1)
            return nn.functional.leaky_relu(norm.call(x), slope);
        return cat(x.chunk(groups).Select(part => nn.functional.leaky_relu(norm.call(part), slope)).ToList(), 0);
    }

    internal static bool Fits(BatchNorm2d norm, Tensor x, int groups = 1) => Fits(norm, x, groups, FastPaths.Current);

    // The kernels reach the tensors' memory through spans, so at most 2 GiB a tensor.
    private static bool Fits(BatchNorm2d norm, Tensor x, int groups, FastPaths paths) =>
        paths.BatchNorm
        && !SecondOrder.Active
        && norm.training
        && norm.track_running_stats
        && norm.running_mean is not null
        && norm.running_var is not null
        && norm.weight is not null
        && norm.bias is not null
        && norm.momentum is not null
        && x.device_type == DeviceType.CPU
        && x.dtype == ScalarType.Float32
        && norm.weight.dtype == ScalarType.Float32
        && x.dim() == 4
        && x.shape[1] == norm.num_features
        && BatchNormLeakyReLUKernels.Supports(x.shape[1])
        && x.numel() * sizeof(float) <= int.MaxValue
        && x.shape[0] / groups * x.shape[2] * x.shape[3] > 1
        && x.permute(0, 2, 3, 1).is_contiguous();

    private sealed unsafe class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(BatchNormLeakyReLU);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, gamma, beta, norm, slope, groups) = (
                (Tensor)vars[0],
                (Tensor)vars[1],
                (Tensor)vars[2],
                (BatchNorm2d)vars[3],
                (double)vars[4],
                (int)vars[5]
            );
            bool scratch = (bool)vars[6];
            long rows = x.shape[0] * x.shape[2] * x.shape[3] / groups; // per group
            int channels = (int)x.shape[1];
            var y = ChannelsLast.Empty(x.shape[0], channels, x.shape[2], x.shape[3]);
            var mean = empty(groups * channels);
            var invstd = empty(groups * channels);
            var variance = new double[channels];
            using (var source = x.permute(0, 2, 3, 1))
            using (var target = y.permute(0, 2, 3, 1))
                fixed (
                    byte* px = source.bytes,
                        py = target.bytes,
                        pg = gamma.bytes,
                        pb = beta.bytes,
                        pm = mean.bytes,
                        pi = invstd.bytes
                )
                fixed (double* pv = variance)
                    for (int g = 0; g < groups; g++)
                    {
                        long at = g * rows * channels;
                        BatchNormLeakyReLUKernels.Forward(
                            (float*)px + at,
                            (float*)py + at,
                            rows,
                            channels,
                            (float*)pg,
                            (float*)pb,
                            norm.eps,
                            (float)slope,
                            Threads(),
                            (float*)pm + g * channels,
                            (float*)pi + g * channels,
                            pv
                        );
                        UpdateRunningStatistics(norm, (float*)pm + g * channels, variance, rows);
                    }
            // Plain references, not saved variables: TorchSharp releases a custom node's saved variables only when the
            // garbage collector finalises it. x belongs to the caller's dispose scope (the trainers run forward and
            // backward in one); the scale and offset change only when the optimizer steps, after the backward pass.
            var saved = new Saved(x, gamma, beta, mean, invstd, slope, groups, scratch, FastPaths.Current);
            ctx.save_data(nameof(Saved), saved);
            return y;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
        {
            var (x, gamma, beta, mean, invstd, slope, groups, scratch, paths) = (Saved)ctx.get_data(nameof(Saved));
            using var forwardPaths = FastPaths.Use(paths);
            long rows = x.shape[0] * x.shape[2] * x.shape[3] / groups; // per group
            int channels = (int)x.shape[1];
            // The gradient arrives channels-last from the convolution after this block; the copy is then free.
            using var dy = grad.permute(0, 2, 3, 1).contiguous();
            // The kernel reads x and writes dx element by element at the same offsets, so dx may be x itself: a fresh
            // buffer of a whole activation costs more than the pass's arithmetic.
            var dx = scratch ? x.detach() : ChannelsLast.Empty(x.shape[0], channels, x.shape[2], x.shape[3]);
            var dgamma = zeros(channels);
            var dbeta = zeros(channels);
            var groupGamma = stackalloc float[channels];
            var groupBeta = stackalloc float[channels];
            using (var source = x.permute(0, 2, 3, 1))
            using (var target = dx.permute(0, 2, 3, 1))
                fixed (
                    byte* px = source.bytes,
                        pd = dy.bytes,
                        po = target.bytes,
                        pg = gamma.bytes,
                        pb = beta.bytes,
                        pm = mean.bytes,
                        pi = invstd.bytes,
                        pdg = dgamma.bytes,
                        pdb = dbeta.bytes
                )
                    for (int g = 0; g < groups; g++)
                    {
                        long at = g * rows * channels;
                        BatchNormLeakyReLUKernels.Backward(
                            (float*)px + at,
                            (float*)pd + at,
                            (float*)po + at,
                            rows,
                            channels,
                            (float*)pg,
                            (float*)pb,
                            (float*)pm + g * channels,
                            (float*)pi + g * channels,
                            (float)slope,
                            Threads(),
                            groupGamma,
                            groupBeta
                        );
                        for (int c = 0; c < channels; c++)
                        {
                            ((float*)pdg)[c] += groupGamma[c];
                            ((float*)pdb)[c] += groupBeta[c];
                        }
                    }
            // nothing for the module, the slope, the groups and the flag
            return [dx, dgamma, dbeta, null!, null!, null!, null!];
        }

        private sealed record Saved(
            Tensor X,
            Tensor Gamma,
            Tensor Beta,
            Tensor Mean,
            Tensor Invstd,
            double Slope,
            int Groups,
            bool Scratch,
            FastPaths Paths
        );

        /// <summary>The library's count for this thread: a training thread's share of the cores, 1 elsewhere.</summary>
        private static int Threads() => Math.Max(1, get_num_threads());

        /// <summary>
        /// As the library's batch norm does (momentum-weighted, the unbiased variance), written in place: through
        /// tensor operations each update would create native scalars that only the garbage collector frees.
        /// </summary>
        private static void UpdateRunningStatistics(BatchNorm2d norm, float* mean, double[] variance, long rows)
        {
            double momentum = norm.momentum!.Value;
            double unbiased = rows / (double)(rows - 1);
            var runningMean = MemoryMarshal.Cast<byte, float>(norm.running_mean!.bytes);
            var runningVar = MemoryMarshal.Cast<byte, float>(norm.running_var!.bytes);
            for (int c = 0; c < variance.Length; c++)
            {
                runningMean[c] = (float)((1 - momentum) * runningMean[c] + momentum * mean[c]);
                runningVar[c] = (float)((1 - momentum) * runningVar[c] + momentum * variance[c] * unbiased);
            }
            if (norm.num_batches_tracked is { } count)
                MemoryMarshal.Cast<byte, long>(count.bytes)[0]++;
        }
    }
}
