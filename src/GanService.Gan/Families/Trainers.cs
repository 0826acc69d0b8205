using GanService.Gan.Checkpoints;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Families;

/// <summary>Creates or resumes the trainer of a plan's family (<see cref="ModelFamily.CreateTrainer"/>).</summary>
public static class Trainers
{
    public static Trainer Create(TrainingPlan plan, TrainingData data, Device device) =>
        ModelFamily.Of(plan.Model).CreateTrainer(plan, data, device);

    /// <summary>Reads the bundle's family from its manifest, verifying any checksum given, and resumes.</summary>
    public static Trainer Resume(byte[] bundle, TrainingData data, Device device, string? expectedSha256 = null)
    {
        ModelFamily family;
        using (var reader = CheckpointBundle.Open(bundle, expectedSha256))
            family = ModelFamily.Of(reader.Manifest.Plan.Model);
        return family.ResumeTrainer(bundle, data, device);
    }
}
