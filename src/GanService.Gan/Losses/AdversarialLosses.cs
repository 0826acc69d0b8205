namespace GanService.Gan.Losses;

/// <summary>The losses a recipe can name.</summary>
public static class AdversarialLosses
{
    public const string NonSaturatingBce = "bce";

    public static IReadOnlyList<string> Names { get; } = [NonSaturatingBce];

    public static IAdversarialLoss Create(string name) => name switch
    {
        NonSaturatingBce => new NonSaturatingBceLoss(),
        _ => throw new ArgumentException($"Unknown loss '{name}'. Known: {string.Join(", ", Names)}.", nameof(name)),
    };
}
