using GanService.Gan.Runtime;

namespace GanService.Gan.Tests;

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
}
