using GanService.Gan.Cpu;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Cpu;

public class OneDnnCheckTests
{
    [Fact]
    public void Convolutions_agree_with_float64_once_the_check_has_run()
    {
        var verdict = OneDnnCheck.Ensure();
        // Run on the test's thread with libtorch's default threads, not the check's single thread: both must agree.
        double worst = OneDnnCheck.WorstError();
        Assert.True(worst < 1e-4, $"convolution error {worst:G3} relative to float64 after the check ({verdict})");
        Assert.Equal(verdict, OneDnnCheck.Ensure()); // decided once per process
    }

    [Fact]
    public void Small_batch_one_convolutions_are_right_and_never_offered_to_an_nnpack_that_cannot_start()
    {
        OneDnnCheck.Ensure();
        // Where NNPACK cannot start, libtorch would log a warning on every such convolution (a translation request's).
        Assert.Equal(Nnpack.Ensure(), Nnpack.Offered);
        using var scope = NewDisposeScope();
        var x = randn(1, 16, 8, 8);
        var w = randn(16, 16, 3, 3).mul_(0.1);
        var y = Convolutions.Conv2d(x, w, null, padding: 1);
        var y64 = nn.functional.conv2d(x.to(float64), w.to(float64), padding: new long[] { 1, 1 });
        Assert.True(y.to(float64).sub(y64).abs().max().item<double>() < 1e-4);
    }
}
