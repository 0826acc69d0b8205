using GanService.Checkpoints;
using GanService.Gan.Families;
using GanService.Gan.Training;
using GanService.Jobs;
using static TorchSharp.torch;

namespace GanService.Transfer;

/// <summary>How a first attempt builds its trainer: fresh, or with the weights its <c>initFrom</c> names.</summary>
public static class StartingWeights
{
    public static Trainer CreateTrainer(
        JobSpec spec,
        TrainingData data,
        Device device,
        Func<InitFromPlan, StoredCheckpoint?> load
    )
    {
        var source = spec.InitFrom is { } from ? load(from) ?? throw new InitFromUnavailableException(from) : null;
        var trainer = Trainers.Create(spec.Plan, data, device);
        try
        {
            if (source is not null)
                trainer.InitializeFrom(source.Bundle, source.Sha256);
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }
}
