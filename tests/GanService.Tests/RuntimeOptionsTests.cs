using System.Text.Json.Nodes;
using GanService.Gan.Runtime;

namespace GanService.Tests;

public class RuntimeOptionsTests
{
    /// <summary>
    /// The settings the service ships in its runtimeconfig.json (RuntimeOptions.props), as its process reads them.
    /// </summary>
    [Fact]
    public void The_service_runs_server_GC_and_its_idle_thread_pool_workers_do_not_spin()
    {
        var config = JsonNode.Parse(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "GanService.runtimeconfig.json"))
        )!;
        var properties = config["runtimeOptions"]!["configProperties"]!;
        Assert.Equal(0, (int)properties["System.Threading.ThreadPool.UnfairSemaphoreSpinLimit"]!);
        Assert.True((bool)properties["System.GC.Server"]!);
    }

    /// <summary>
    /// The host's copy of the library ships the finalizer quarantine, and the service's process uses it.
    /// </summary>
    [Fact]
    public void The_service_runs_TorchSharps_finalizers_through_the_quarantine()
    {
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "libGanServiceQuarantine.so")));
        Assert.True(FinalizerQuarantine.Installed, FinalizerQuarantine.Problem);
    }
}
