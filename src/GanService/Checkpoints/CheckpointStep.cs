using System.Globalization;

namespace GanService.Checkpoints;

/// <summary>
/// A <c>step</c> as URLs take it: a checkpoint's step number, or <c>best</c>, the checkpoint with the lowest
/// Frechet distance so far (which can change as the job goes on, so answers for it are not cached for ever).
/// </summary>
public readonly record struct CheckpointStep(long Number, bool Best)
{
    public const string BestName = "best";

    public static CheckpointStep Of(long number) => new(number, false);

    public static CheckpointStep BestOne => new(0, true);

    /// <summary>Binds from a query string or route; anything else is a 400 naming the parameter.</summary>
    public static bool TryParse(string? value, IFormatProvider? provider, out CheckpointStep step)
    {
        step = default;
        if (string.Equals(value, BestName, StringComparison.OrdinalIgnoreCase))
        {
            step = BestOne;
            return true;
        }
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            return false;
        step = Of(number);
        return true;
    }

    public override string ToString() => Best ? BestName : Number.ToString(CultureInfo.InvariantCulture);

    /// <summary>The step number a query compares with: null for "best", which the query resolves itself.</summary>
    public static long? NumberOf(CheckpointStep? step) => step is { Best: false } s ? s.Number : null;
}
