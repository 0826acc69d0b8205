using System.Diagnostics;
using GanService.Gan.Checkpoints;
using GanService.Gan.Data;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using static TorchSharp.torch;
using Statistics = GanService.Gan.Quality.RealStatistics;

namespace GanService.Gan.Quality;

/// <summary>
/// Scores a checkpoint's generator against a dataset: noise families on latents drawn from a fixed seed, translation
/// families on a fixed draw of training inputs, so that every checkpoint of a run is judged on the same ones.
/// Images are made, featured and freed a chunk at a time, so memory does not grow with the sample count
/// (docs/quality.md, "Evaluating a checkpoint").
/// </summary>
public static class GeneratorEvaluator
{
    /// <summary>The seed of latents and translation inputs, so that checkpoints compare on the same ones.</summary>
    public const long Seed = 20_250_807;

    /// <summary>Images made (generated, translated or read) at once.</summary>
    public const int Chunk = 64;

    /// <summary>The fewest items precision and recall (k = 3 neighbours) can score.</summary>
    public const int MinimumItems = PrecisionRecall.DefaultK + 1;

    /// <summary>Images the feature network runs at once: one batch shape, as a first pass at a shape is slow.</summary>
    private const int FeatureBatch = 32;

    /// <summary>
    /// The real statistics a checkpoint of <paramref name="plan"/> is judged against: the dataset's images for
    /// families that sample from noise, its targets (domain B) for translation families. <paramref name="count"/>
    /// items (all when the dataset is smaller) are picked by a permutation seeded with <see cref="Seed"/> and read
    /// a chunk at a time.
    /// </summary>
    public static Statistics RealStatistics(
        FeatureNetwork network,
        TrainingPlan plan,
        TrainingData data,
        int count,
        CancellationToken ct = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, MinimumItems);
        var domain = plan.Model.Translation ? Targets(data) : data.Images;
        var picks = Picks(domain.Count, count);
        if (picks.Length < MinimumItems)
            throw new ArgumentException($"The dataset needs at least {MinimumItems} images.", nameof(data));
        using var scope = NewDisposeScope();
        var features = Featured(network, picks.Length, (_, part) => domain.Batch(picks[part], network.Device), ct);
        return Statistics.From(features, seed: Seed, side: network.Side);
    }

    /// <summary>
    /// Scores the generator in <paramref name="checkpoint"/> on <paramref name="samples"/> images against
    /// <paramref name="real"/>. Noise families draw chunk j with seed <see cref="Seed"/> + j from the EMA generator
    /// where the run kept one (conditional ones class i % classes); translation families translate inputs of
    /// <paramref name="data"/> picked as <see cref="RealStatistics"/> picks, and pix2pix compares them with their
    /// paired targets. <paramref name="ct"/> is observed between chunks.
    /// </summary>
    public static GeneratorEvaluation Evaluate(
        FeatureNetwork network,
        CheckpointReader checkpoint,
        TrainingData data,
        Statistics real,
        int samples,
        CancellationToken ct = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, MinimumItems);
        if (real.Network != FeatureNetwork.Name || real.Side != network.Side)
            throw new ArgumentException(
                $"The real statistics were taken with {real.Network} at side {real.Side}, "
                    + $"not {FeatureNetwork.Name} at side {network.Side}.",
                nameof(real)
            );
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        if (checkpoint.Manifest.Plan.Model.Translation)
        {
            using var translator = TranslationSampler.Load(checkpoint, network.Device);
            var paired = new PairedDistances();
            var features = Translated(network, translator, data, samples, paired, ct);
            return Scored(real, features, clock, paired.Count > 0 ? paired : null);
        }
        using var sampler = GeneratorSampler.Load(checkpoint, network.Device);
        return Scored(real, Featured(network, samples, (j, part) => Generated(sampler, j, part, ct), ct), clock);
    }

    /// <summary>Chunk <paramref name="j"/> of a noise family's evaluation images.</summary>
    internal static Tensor Generated(GeneratorSampler sampler, int j, Range part, CancellationToken ct = default) =>
        sampler.Sample(Seed + j, part.End.Value - part.Start.Value, ct: ct);

    /// <summary>
    /// Features [count, d] of images made a chunk at a time by <paramref name="make"/> (chunk index, item range);
    /// each chunk's images are freed before the next is made.
    /// </summary>
    internal static Tensor Featured(
        FeatureNetwork network,
        int count,
        Func<int, Range, Tensor> make,
        CancellationToken ct
    )
    {
        var parts = new List<Tensor>();
        using var scope = NewDisposeScope();
        for (int j = 0, start = 0; start < count; j++, start += Chunk)
        {
            ct.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            var images = make(j, start..Math.Min(count, start + Chunk));
            parts.Add(network.Features(images, FeatureBatch).MoveToOuterDisposeScope());
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The evaluation of generated <paramref name="features"/>, timed from <paramref name="clock"/>'s start. The
    /// duplicate test looks at no more items than the real subset its radius came from, since nearest neighbours
    /// draw closer as a set grows.
    /// </summary>
    internal static GeneratorEvaluation Scored(
        Statistics real,
        Tensor features,
        Stopwatch clock,
        PairedDistances? paired = null
    ) =>
        new(
            QualityScores.Evaluate(real, features, Seed),
            NearDuplicates.Share(
                features.narrow(0, 0, Math.Min(features.shape[0], real.SubsetCount)),
                real.DuplicateRadius
            ),
            paired?.L1,
            paired?.Psnr,
            clock.Elapsed.TotalSeconds
        );

    /// <summary>
    /// The first min(count, n) items of a permutation of n seeded with <see cref="Seed"/>: the same every time.
    /// </summary>
    internal static long[] Picks(int n, int count)
    {
        using var rng = new Generator((ulong)Seed);
        using var order = randperm(n, generator: rng);
        return order.data<long>().Take(count).ToArray();
    }

    /// <summary>
    /// The inputs a translation evaluation translates: up to <paramref name="samples"/> of the held-out tail where the
    /// plan holds one out, else of all <paramref name="items"/> (runs from before inputs were held out).
    /// </summary>
    internal static long[] TranslationPicks(TrainingPlan plan, int items, int samples)
    {
        int training = HeldOutInputs.Training(plan, items);
        return training == items
            ? Picks(items, samples)
            : Picks(items - training, samples).Select(i => i + training).ToArray();
    }

    /// <summary>
    /// Features of the translations of <paramref name="samples"/> picked inputs; for pix2pix, whose data pairs each
    /// input with its target at the same index, <paramref name="paired"/> gathers their distances to the targets.
    /// </summary>
    private static Tensor Translated(
        FeatureNetwork network,
        TranslationSampler translator,
        TrainingData data,
        int samples,
        PairedDistances paired,
        CancellationToken ct
    )
    {
        var targets = Targets(data);
        bool pix2pix = translator.Plan.Model.Family == ModelRecipe.Pix2Pix;
        var picks = TranslationPicks(translator.Plan, data.Images.Count, samples);
        if (picks.Length < MinimumItems)
            throw new ArgumentException($"The dataset needs at least {MinimumItems} images.", nameof(data));
        return Featured(
            network,
            picks.Length,
            (_, part) =>
            {
                var translated = translator.Translate(data.Images.Batch(picks[part], network.Device));
                if (pix2pix)
                    paired.Add(translated, targets.Batch(picks[part], CPU));
                return translated;
            },
            ct
        );
    }

    private static ImageDataset Targets(TrainingData data) =>
        data.Targets
        ?? throw new ArgumentException(
            "A translation family is judged against its target domain, and this data has none.",
            nameof(data)
        );
}
