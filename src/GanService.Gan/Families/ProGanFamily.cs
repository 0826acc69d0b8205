using GanService.Gan.Losses;
using GanService.Gan.Models;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Families;

/// <summary>
/// ProGAN: progressive growing with equalised learning rates, WGAN-GP with one critic step per generator step (the
/// DCGAN critic takes five), a critic without normalisation.
/// </summary>
public sealed class ProGanFamily : ModernFamily
{
    private static readonly FamilyDefaults ProGanDefaults = ModernDefaults with
    {
        Loss = AdversarialLosses.Wasserstein,
        GeneratorLearningRate = 5e-4,
        DiscriminatorLearningRate = 5e-4,
        Beta2 = 0.99,
        WassersteinCriticSteps = 1,
        FixedNormalization = ModelRecipe.NoNorm,
    };

    public override string Name => ModelRecipe.ProGan;
    public override FamilyDefaults Defaults => ProGanDefaults;
    public override IReadOnlyCollection<string> Fields => [.. base.Fields, FamilyFields.PhaseField];
    public override bool GrowsProgressively => true;

    protected internal override nn.Module CreateGenerator(ModelRecipe recipe) => new ProGanGenerator(recipe);

    protected internal override nn.Module CreateDiscriminator(ModelRecipe recipe) =>
        new EqualizedDiscriminator(recipe, residual: false);
}
