using GanService.Gan.Runtime;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>
/// TorchSharp's temporary Scalars (every <c>a + b</c>, every <c>leaky_relu(x, 0.2)</c>) stay valid while libtorch
/// reads them, even when the garbage collector finalizes them mid-call (see <see cref="ScalarQuarantine"/>).
/// </summary>
public class ScalarQuarantineTests
{
    [Fact]
    public void Is_installed_in_every_process_that_uses_the_library()
    {
        Assert.True(ScalarQuarantine.Installed, ScalarQuarantine.Problem);
    }

    [Fact]
    public void Arithmetic_with_numbers_gives_right_answers_while_the_collector_finalizes_its_scalars()
    {
        // Without the quarantine this failed 8-13 times in 10 s here (libtorch rejected a freed Scalar's type), and a
        // freed Scalar that still looked valid would have given a wrong slope instead.
        using var negative = full(new long[] { 64, 64, 14, 14 }, -1f);
        using var one = ones(64, 64, 14, 14);
        long elements = negative.numel();
        var before = ScalarQuarantine.Counts();
        int calls = 0;
        var wrong = new List<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(6));
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
                    using var slope = nn.functional.leaky_relu(negative, 0.2);
                    using var sum = negative + one; // alpha = 1, a temporary Scalar inside TorchSharp
                    if (calls % 50 == 0) // the check costs more than the calls: a sample of them
                    {
                        using var scope = NewDisposeScope();
                        double slopeTotal = slope.sum().item<float>(), sumTotal = sum.abs().sum().item<float>();
                        if (Math.Abs(slopeTotal + 0.2 * elements) > 1e-3 * elements || sumTotal != 0)
                            wrong.Add($"call {calls}: leaky_relu sum {slopeTotal}, |x + 1| sum {sumTotal}");
                    }
                }
                catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException)
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
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {calls} calls went wrong, first: {wrong.FirstOrDefault()}");
        Assert.True(ScalarQuarantine.Counts().Disposed > before.Disposed, "no Scalar went through the quarantine");
    }
}
