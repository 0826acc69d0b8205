using GanService.Gan.Models;
using GanService.Gan.Training;

namespace GanService.Gan.Sampling;

/// <summary>
/// The sampling controls the newer families are known for. <see cref="Truncation"/>: BigGAN's threshold (latent
/// entries beyond it are redrawn) or StyleGAN's psi (w pulled toward the average w; 0 gives the average image).
/// StyleGAN only: <see cref="Noise"/> (fresh noise from the seed, or the network's fixed maps) and style mixing,
/// which takes the styles of <see cref="MixSeed"/> from layer <see cref="MixFrom"/> on.
/// </summary>
public sealed record SamplingControls(double? Truncation = null, NoiseMode? Noise = null, long? MixSeed = null, int? MixFrom = null)
{
    public static readonly SamplingControls None = new();

    /// <summary>Style inputs of a StyleGAN generator at this size: two per doubling plus two at 4x4.</summary>
    public static int StyleCount(ModelRecipe recipe) => 2 * (Widths.Resolutions(recipe.ImageSize).Count - 1) + 2;

    /// <summary>Where mixing starts when no layer is given: half way, coarse styles from one seed, fine from the other.</summary>
    public static int DefaultMixFrom(ModelRecipe recipe) => StyleCount(recipe) / 2;

    /// <summary>Problems, keyed by the control's name, for controls this family lacks or values it cannot take.</summary>
    public IReadOnlyDictionary<string, string> Check(ModelRecipe recipe)
    {
        var problems = new Dictionary<string, string>();
        string family = recipe.Family;
        bool style = family == ModelRecipe.StyleGan;
        if (Truncation is { } t)
        {
            if (family == ModelRecipe.BigGan && t is not (> 0 and <= 4))
                problems["truncation"] = "BigGAN's truncation is the threshold beyond which latent entries are redrawn: more than 0, at most 4.";
            else if (style && t is not (>= 0 and <= 2))
                problems["truncation"] = "StyleGAN's truncation is psi, between 0 (the average image) and 2 (1 is no truncation).";
            else if (family is not (ModelRecipe.BigGan or ModelRecipe.StyleGan))
                problems["truncation"] = $"A {family} generator has no truncation; it is a biggan or stylegan control.";
        }
        if (Noise is not null && !style) problems["noise"] = $"A {family} generator has no noise inputs; noise is a stylegan control.";
        if (MixSeed is not null && !style) problems["mix"] = $"A {family} generator has no styles to mix; mix is a stylegan control.";
        if (MixFrom is not null && !style) problems["mixFrom"] = $"A {family} generator has no styles to mix; mixFrom is a stylegan control.";
        if (style && MixSeed < 0) problems["mix"] = "Must be zero or positive.";
        if (style && MixFrom is { } layer && (layer < 1 || layer >= StyleCount(recipe)))
            problems["mixFrom"] = $"This generator has style layers 0 to {StyleCount(recipe) - 1}; mix from 1 to {StyleCount(recipe) - 1}.";
        if (style && MixFrom is not null && MixSeed is null) problems["mix"] = "mixFrom needs mix, the seed whose styles to take.";
        return problems;
    }

    /// <summary>A stable text form for cache keys and ETags.</summary>
    public override string ToString() => $"t={Truncation}|n={Noise}|m={MixSeed}|f={MixFrom}";
}
