namespace GanService.Gan.Data;

/// <summary>
/// The inputs a translation run keeps out of training so that its evaluations translate images the generator never
/// saw: the last tenth of the inputs (domain A), at most <see cref="Max"/>. None are held out where that would leave
/// fewer than one batch to train on, or fewer than four to score (the least precision and recall can use).
/// </summary>
public static class HeldOutInputs
{
    public const int Max = 512;

    private const int Fewest = 4;

    /// <summary>How many of <paramref name="items"/> inputs are held out, for a plan that holds some out.</summary>
    public static int Count(int items, int batchSize)
    {
        int held = Math.Min(Max, items / 10);
        return held < Fewest || items - held < batchSize ? 0 : held;
    }

    /// <summary>Inputs the trainer draws batches from: the first ones, the held-out tail left out.</summary>
    public static int Training(Training.TrainingPlan plan, int items) =>
        items - (plan.HoldOut ? Count(items, plan.BatchSize) : 0);
}
