using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Training;

namespace GanService.Gan.Checkpoints;

/// <summary>
/// How many bytes a plan's checkpoint bundle takes, known before any training: every entry the trainers write, as
/// 4-byte floats plus small allowances for tensor headers, zip records, the manifest and the RNG state. It errs high
/// by a few kilobytes, and by CycleGAN's image pools, counted full (docs/reliability.md#checkpoint-size).
/// </summary>
public static class BundleSize
{
    private const long FloatBytes = 4;

    /// <summary>A tensor's header in a network entry beside its name: the name's length, dtype, rank, sizes.</summary>
    private const long TensorHeader = 16;

    /// <summary>Adam's state of one parameter beside its two moments: the step and both moments' headers.</summary>
    private const long MomentsHeader = 48;

    /// <summary>An entry's zip records (local header, descriptor, central directory) and its manifest hash.</summary>
    private const long EntryRecords = 512;

    /// <summary>The manifest's recipe and the zip's end records; the RNG state (a CPU generator's is 5 KB).</summary>
    private const long Manifest = 8 * 1024,
        RngState = 8 * 1024;

    /// <summary>The bytes of the largest bundle the plan's trainer writes.</summary>
    public static long Estimate(TrainingPlan plan)
    {
        var model = plan.Model;
        var family = ModelFamily.Of(model);
        var (generator, discriminator) = NetworkShapes.Of(model);
        // CycleGAN trains a second pair, B to A; its optimizers hold both pairs' moments.
        int pairs = family.TranslatesBothWays ? 2 : 1;
        var entries = new List<long>
        {
            Network(generator),
            Network(discriminator),
            Moments(generator, pairs),
            Moments(discriminator, pairs),
            RngState,
        };
        if (pairs == 2)
            entries.AddRange([Network(generator), Network(discriminator), ImagePools(model)]);
        if (!family.Translates)
        {
            entries.Add(Values((long)plan.PreviewCount * model.LatentSize));
            if (plan.EmaDecay > 0)
                entries.Add(Network(generator));
        }
        return checked(entries.Sum() + entries.Count * EntryRecords + Manifest);
    }

    private static long Network(NetworkSize size) =>
        checked(size.StateElements * FloatBytes + size.NameBytes + size.StateTensors * TensorHeader);

    private static long Moments(NetworkSize size, int networks) =>
        checked(networks * (size.ParameterElements * 2 * FloatBytes + size.ParameterTensors * MomentsHeader));

    private static long Values(long elements) => checked(elements * FloatBytes + TensorHeader);

    /// <summary>Both domains' pools of past fakes, full.</summary>
    private static long ImagePools(ModelRecipe model) =>
        2 * Values((long)ImagePool.DefaultCapacity * model.Channels * model.ImageSize * model.ImageSize);
}
