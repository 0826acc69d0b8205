using GanService.Gan.Runtime;

namespace GanService.Benchmarks;

/// <summary>
/// Every measurement that uses libtorch runs on a thread of its own with all cores, as a training job does in the
/// service; everything else in this process runs libtorch single-threaded, as in the host. So no idle OpenMP team
/// from an earlier row is left to slow a later one (TorchRuntime's remarks).
/// </summary>
internal static class Torch
{
    public static void SingleThreadedByDefault() => TorchRuntime.SetDefaultThreads(1);

    public static T OnOwnThread<T>(Func<T> measure) =>
        TorchRuntime.RunOnOwnThread("training", Environment.ProcessorCount, measure);

    public static void OnOwnThread(Action measure) =>
        TorchRuntime.RunOnOwnThread("training", Environment.ProcessorCount, measure);
}
