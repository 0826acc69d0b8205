using GanService.Gan.Losses;
using GanService.Gan.Training;

namespace GanService.Jobs;

/// <summary>
/// The settings each family's paper trains with, scaled for CPU runs of minutes where the paper's would take days
/// (batch 32, EMA decay 0.99, width 16). A request overrides any of them.
/// </summary>
public static class FamilyDefaults
{
    public static string Loss(string? family) => family switch
    {
        ModelRecipe.CycleGan => AdversarialLosses.LeastSquares,
        ModelRecipe.BigGan => AdversarialLosses.Hinge,
        ModelRecipe.ProGan => AdversarialLosses.Wasserstein,
        _ => AdversarialLosses.NonSaturatingBce,
    };

    /// <summary>Generator and discriminator learning rates: BigGAN's two-time-scale 1e-4 / 4e-4, ProGAN 5e-4, StyleGAN2 2e-3.</summary>
    public static (double Generator, double Discriminator) LearningRates(string? family) => family switch
    {
        ModelRecipe.BigGan => (1e-4, 4e-4),
        ModelRecipe.ProGan => (5e-4, 5e-4),
        ModelRecipe.StyleGan => (2e-3, 2e-3),
        _ => (2e-4, 2e-4),
    };

    public static double Beta1(string? family) => ModelRecipe.IsModern(family) ? 0 : 0.5;

    public static double Beta2(string? family) => family is ModelRecipe.ProGan or ModelRecipe.StyleGan ? 0.99 : 0.999;

    public static int BatchSize(string? family) => family is ModelRecipe.Pix2Pix or ModelRecipe.CycleGan ? 4 : ModelRecipe.IsModern(family) ? 32 : 64;

    public static int LatentSize(string? family) => ModelRecipe.IsModern(family) ? 64 : 100;

    /// <summary>ProGAN trains one critic step per generator step even with WGAN-GP; the DCGAN critic takes five.</summary>
    public static int CriticSteps(string? family, bool wasserstein) => wasserstein && family != ModelRecipe.ProGan ? 5 : 1;

    public static double R1(string? family) => family == ModelRecipe.StyleGan ? 1 : 0;

    /// <summary>StyleGAN2's lazy regularisation: R1 on every 16th D update, weighted 16x; others every update.</summary>
    public static int R1Every(string? family) => family == ModelRecipe.StyleGan ? 16 : 1;

    public static double Ema(string? family) => family is ModelRecipe.BigGan or ModelRecipe.StyleGan ? 0.99 : 0;

    public static double OrthogonalRegularization(string? family) => family == ModelRecipe.BigGan ? 1e-4 : 0;

    /// <summary>The newer families fix their discriminator's normalisation: BigGAN spectral, ProGAN and StyleGAN none.</summary>
    public static string? FixedNormalization(string? family) => family switch
    {
        ModelRecipe.BigGan => ModelRecipe.SpectralNorm,
        ModelRecipe.ProGan or ModelRecipe.StyleGan => ModelRecipe.NoNorm,
        _ => null,
    };
}
