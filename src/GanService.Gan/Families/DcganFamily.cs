using GanService.Gan.Models;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Families;

/// <summary>
/// DCGAN: the default family, unconditional, at 28, 32 or 64 pixels, with the loss and discriminator normalisation
/// the request picks.
/// </summary>
public class DcganFamily : ModelFamily
{
    private static readonly IReadOnlyList<int> Sizes = [28, 32, 64];

    public override string Name => ModelRecipe.Dcgan;
    public override IReadOnlyList<int> ImageSizes => Sizes;
    public override FamilyDefaults Defaults => FamilyDefaults.Dcgan;

    protected internal override nn.Module CreateGenerator(ModelRecipe recipe) => new DcganGenerator(recipe);

    protected internal override nn.Module CreateDiscriminator(ModelRecipe recipe) => new DcganDiscriminator(recipe);
}
