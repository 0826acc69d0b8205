using GanService.Gan.Training;
using GanService.Hosting;

namespace GanService.Jobs.Worker;

/// <summary>
/// Keeps the newest report (training runs on this thread, so no locking) and gives the fault hooks each step.
/// </summary>
internal sealed class StepProgress(FaultInjection faults) : IProgress<TrainingProgress>
{
    public TrainingProgress? Latest { get; private set; }

    public void Report(TrainingProgress value)
    {
        Latest = value;
        faults.OnStep(value.Step);
    }
}
