using System.Runtime.InteropServices;
using GanService.Gan.Runtime;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Runtime;

/// <summary>
/// TorchSharp's temporaries (the Scalar of every <c>a + b</c> and <c>leaky_relu(x, 0.2)</c>, the tensor of
/// <c>x.abs().sum()</c>) stay valid while libtorch reads them, even when the garbage collector finalizes them
/// mid-call (see <see cref="FinalizerQuarantine"/>).
/// </summary>
public class FinalizerQuarantineTests
{
    [Fact]
    public void Is_installed_in_every_process_that_uses_the_library()
    {
        Assert.True(FinalizerQuarantine.Installed, FinalizerQuarantine.Problem);
    }

    [Fact]
    public void Arithmetic_with_numbers_gives_right_answers_while_the_collector_finalizes_its_scalars()
    {
        // Without the quarantine 19 of ~4,000 calls failed here (libtorch rejected a freed Scalar's type); a freed
        // Scalar that still looked valid would have given a wrong slope instead.
        using var negative = full(new long[] { 64, 64, 14, 14 }, -1f);
        using var one = ones(64, 64, 14, 14);
        long elements = negative.numel();
        var before = FinalizerQuarantine.Counts();
        var (calls, wrong) = UnderCollectionStorm(TimeSpan.FromSeconds(6), call =>
        {
            using var slope = nn.functional.leaky_relu(negative, 0.2);
            using var sum = negative + one; // alpha = 1, a temporary Scalar inside TorchSharp
            if (call % 50 != 0)
                return null; // the check costs more than the calls: a sample of them
            using var scope = NewDisposeScope();
            double slopeTotal = slope.sum().item<float>(),
                sumTotal = sum.abs().sum().item<float>();
            return Math.Abs(slopeTotal + 0.2 * elements) > 1e-3 * elements || sumTotal != 0
                ? $"leaky_relu sum {slopeTotal}, |x + 1| sum {sumTotal}"
                : null;
        });
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {calls} calls went wrong, first: {wrong.FirstOrDefault()}");
        Assert.True(FinalizerQuarantine.Counts().Scalars > before.Scalars, "no Scalar went through the quarantine");
    }

    [Fact]
    public void A_temporary_tensor_outside_a_dispose_scope_survives_the_collector_finalizing_it()
    {
        // Without the quarantine this crashed the test process (a segmentation fault in sum's kernel, reading the
        // freed temporary x.abs()), in 3 of 4 runs of 15 s here.
        using var x = ones(64, 64, 14, 14);
        using var minusOne = full(new long[] { 64, 64, 14, 14 }, -1f);
        var before = FinalizerQuarantine.Counts();
        var (calls, wrong) = UnderCollectionStorm(TimeSpan.FromSeconds(6), _ =>
        {
            // Neither temporary is disposed: their tensors are freed by the finalizer, perhaps mid-call.
            float total = minusOne.abs().sum().item<float>(),
                sum = x.add(minusOne.neg()).sum().item<float>();
            return total != x.numel() || sum != 2 * x.numel() ? $"sums {total}, {sum}" : null;
        });
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {calls} calls went wrong, first: {wrong.FirstOrDefault()}");
        var after = FinalizerQuarantine.Counts();
        Assert.True(after.Tensors > before.Tensors, "no tensor went through the quarantine");
        Assert.True(
            after.TensorBytesHeld <= 256UL << 20,
            $"{after.TensorBytesHeld} bytes of tensors held, over the 256 MiB limit"
        );
    }

    /// <summary>
    /// Runs <paramref name="call"/> in a loop while another thread collects garbage and runs finalizers.
    /// </summary>
    private static (int Calls, List<string> Wrong) UnderCollectionStorm(TimeSpan duration, Func<int, string?> call)
    {
        int calls = 0;
        var wrong = new List<string>();
        using var stop = new CancellationTokenSource(duration);
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (call(calls) is { } problem)
                        wrong.Add($"call {calls}: {problem}");
                }
                catch (ExternalException e)
                {
                    wrong.Add($"call {calls}: {e.Message.Split('\n')[0]}");
                }
                calls++;
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        return (calls, wrong);
    }
}
