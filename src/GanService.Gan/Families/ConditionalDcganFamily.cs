using GanService.Gan.Models;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Families;

/// <summary>The class-conditional DCGAN: DCGAN's sizes and defaults, with labels into both networks.</summary>
public sealed class ConditionalDcganFamily : DcganFamily
{
    public override string Name => ModelRecipe.ConditionalDcgan;
    public override bool Conditional => true;

    protected internal override nn.Module CreateGenerator(ModelRecipe recipe) => new ConditionalDcganGenerator(recipe);

    protected internal override nn.Module CreateDiscriminator(ModelRecipe recipe) =>
        new ConditionalDcganDiscriminator(recipe);
}
