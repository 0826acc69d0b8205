namespace GanService.Gan.Losses;

/// <summary>The losses a recipe can name.</summary>
public static class AdversarialLosses
{
    public const string NonSaturatingBce = "bce",
        MinimaxBce = "bce-minimax",
        LeastSquares = "lsgan",
        Wasserstein = "wgan-gp",
        Hinge = "hinge";

    public static IReadOnlyList<string> Names { get; } =
    [NonSaturatingBce, MinimaxBce, LeastSquares, Wasserstein, Hinge];

    public static IAdversarialLoss Create(string name) =>
        name switch
        {
            NonSaturatingBce => new NonSaturatingBceLoss(),
            MinimaxBce => new MinimaxBceLoss(),
            LeastSquares => new LeastSquaresLoss(),
            Wasserstein => new WassersteinLoss(),
            Hinge => new HingeLoss(),
            _ => throw new ArgumentException(
                $"Unknown loss '{name}'. Known: {string.Join(", ", Names)}.",
                nameof(name)
            ),
        };
}
