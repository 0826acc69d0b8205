using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Training;

namespace GanService.Gan.Sampling;

/// <summary>
/// The sampling controls the newer families are known for. <see cref="Truncation"/>: BigGAN's threshold (latent
/// entries beyond it are redrawn) or StyleGAN's psi (w pulled toward the average w; 0 gives the average image).
/// StyleGAN only: <see cref="Noise"/> (fresh noise from the seed, or the network's fixed maps) and style mixing,
/// which takes the styles of <see cref="MixSeed"/> from layer <see cref="MixFrom"/> on.
/// </summary>
public sealed record SamplingControls(
    double? Truncation = null,
    NoiseMode? Noise = null,
    long? MixSeed = null,
    int? MixFrom = null
)
{
    public static readonly SamplingControls None = new();

    /// <summary>Style inputs of a StyleGAN generator at this size: two per doubling plus two at 4x4.</summary>
    public static int StyleCount(ModelRecipe recipe) => 2 * (Widths.Resolutions(recipe.ImageSize).Count - 1) + 2;

    /// <summary>
    /// Where mixing starts when no layer is given: half way, coarse styles from one seed, fine from the other.
    /// </summary>
    public static int DefaultMixFrom(ModelRecipe recipe) => StyleCount(recipe) / 2;

    /// <summary>
    /// Problems, keyed by the control's name, for controls this family lacks or values it cannot take.
    /// </summary>
    public IReadOnlyDictionary<string, string> Check(ModelRecipe recipe) =>
        ModelFamily.Of(recipe).CheckControls(this, recipe);

    /// <summary>A stable text form for cache keys and ETags.</summary>
    public override string ToString() => $"t={Truncation}|n={Noise}|m={MixSeed}|f={MixFrom}";
}
