using GanService.Gan.Checkpoints;

namespace GanService.Gan.Training;

/// <summary>Training past a run's planned end, and starting a run from another run's weights.</summary>
public abstract partial class Trainer
{
    /// <summary>
    /// Moves the plan's end to <paramref name="steps"/> (<see cref="TrainingPlan.Continued"/>). Nothing the steps so
    /// far depended on changes, so the steps that follow are those a run planned this long from the start would take.
    /// </summary>
    public void ContinueTo(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, Step);
        Plan = Plan.Continued(steps);
    }

    /// <summary>
    /// Copies the network weights of another run's checkpoint (generators, discriminators, the generator's moving
    /// average) into this fresh trainer, keeping its own optimizers, RNG and step. The bundle's networks must have
    /// this plan's architecture (<see cref="ModelRecipe.ArchitectureDifferences"/>). Where this run keeps a moving
    /// average and the source kept none, the average starts at the source's generator, as a fresh one starts at G.
    /// </summary>
    public void InitializeFrom(byte[] bundle, string? expectedSha256 = null)
    {
        if (Step != 0)
            throw new InvalidOperationException("Only a run that has not trained yet starts from other weights.");
        using var reader = CheckpointBundle.Open(bundle, expectedSha256);
        var differences = Plan.Model.ArchitectureDifferences(reader.Manifest.Plan.Model).ToList();
        if (differences.Count > 0)
            throw new ArgumentException(
                "The checkpoint's networks differ from this run's: "
                    + string.Join("; ", differences.Select(d => $"{d.Field} {d.Theirs} vs {d.Mine}"))
                    + ".",
                nameof(bundle)
            );
        foreach (var part in Parts.Where(p => CheckpointEntries.Networks.Contains(p.Name)))
        {
            var entry =
                part.Name == CheckpointEntries.Ema && !reader.Has(CheckpointEntries.Ema)
                    ? CheckpointEntries.Generator
                    : part.Name;
            part.Read(reader.Entry(entry));
        }
    }
}
