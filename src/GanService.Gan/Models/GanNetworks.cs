using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Models;

/// <summary>Builds a family's generator and discriminator from a recipe.</summary>
public static class GanNetworks
{
    public static nn.Module<Tensor, Tensor> Generator(ModelRecipe recipe) => recipe.Family switch
    {
        ModelRecipe.Dcgan => new DcganGenerator(recipe),
        _ => throw new ArgumentException($"Unknown model family '{recipe.Family}'.", nameof(recipe)),
    };

    public static nn.Module<Tensor, Tensor> Discriminator(ModelRecipe recipe) => recipe.Family switch
    {
        ModelRecipe.Dcgan => new DcganDiscriminator(recipe),
        _ => throw new ArgumentException($"Unknown model family '{recipe.Family}'.", nameof(recipe)),
    };

    public static long ParameterCount(nn.Module module) => module.parameters().Sum(p => p.numel());
}
