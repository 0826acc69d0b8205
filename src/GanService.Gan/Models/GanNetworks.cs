using GanService.Gan.Cpu;
using GanService.Gan.Families;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Models;

/// <summary>
/// Builds a family's generator and discriminator from a recipe, and calls them whether or not they take labels
/// (conditional networks are <c>Module&lt;Tensor, Tensor, Tensor&gt;</c>, the rest
/// <c>Module&lt;Tensor, Tensor&gt;</c>).
/// </summary>
public static class GanNetworks
{
    /// <remarks>
    /// Every network is built here, from its family's factory (<see cref="ModelFamily"/>), after making sure this
    /// process's convolutions are right (<see cref="OneDnnCheck"/>).
    /// </remarks>
    public static nn.Module Generator(ModelRecipe recipe)
    {
        OneDnnCheck.Ensure();
        return ModelFamily.Of(recipe).CreateGenerator(recipe);
    }

    public static nn.Module Discriminator(ModelRecipe recipe)
    {
        OneDnnCheck.Ensure();
        return ModelFamily.Of(recipe).CreateDiscriminator(recipe);
    }

    /// <summary>Runs a network on its input, with labels where it is conditional.</summary>
    public static Tensor Call(nn.Module network, Tensor input, Tensor? labels) =>
        network switch
        {
            nn.Module<Tensor, Tensor, Tensor> conditional => conditional.call(
                input,
                labels ?? throw new ArgumentException($"{network.GetName()} is class-conditional: labels are required.")
            ),
            nn.Module<Tensor, Tensor> plain => plain.call(input),
            _ => throw new ArgumentException($"{network.GetName()} is not a GAN network."),
        };

    public static long ParameterCount(nn.Module module) => module.parameters().Sum(p => p.numel());
}

/// <summary>
/// A discriminator that scores several equal batches stacked in one tensor in one pass, each batch normalised with
/// its own statistics: the same logits as one call per batch, with a fraction of the calls. D's update scores the
/// real and the fake batch this way.
/// </summary>
public interface IGroupedDiscriminator
{
    /// <summary>
    /// False where one call would not equal separate ones: a layer with per-call state, such as spectral norm's
    /// power iteration.
    /// </summary>
    bool Groupable { get; }

    /// <summary>
    /// Logits for images holding <paramref name="groups"/> equal batches (labels, where conditional, stacked alike).
    /// </summary>
    Tensor Call(Tensor images, Tensor? labels, int groups);
}
