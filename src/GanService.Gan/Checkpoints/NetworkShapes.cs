using System.Collections.Concurrent;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Checkpoints;

/// <summary>
/// How many tensors and elements a network holds: all of its state (with the bytes of the tensors' names), and the
/// parameters Adam keeps moments of.
/// </summary>
internal sealed record NetworkSize(
    long StateElements,
    int StateTensors,
    long NameBytes,
    long ParameterElements,
    int ParameterTensors
);

/// <summary>
/// The tensor shapes of a recipe's generator and discriminator, known without building them at the recipe's size.
/// Each network is built at small probe values of its width, latent size and class count; every dimension is a
/// line in each of them (a channel count, a latent chunk, a class table's rows), so two probes per value give it at
/// any value (docs/reliability.md#checkpoint-size).
/// </summary>
internal static class NetworkShapes
{
    /// <summary>
    /// A recipe value the networks grow with. Up to <paramref name="High"/> the networks are built at the value itself;
    /// above it, at Low and High: both clear of the smallest channel count's clamp, and far enough apart that every
    /// divisor the networks take of the value (a quarter of the width, then an eighth of that; the latent split into
    /// up to seven chunks) divides the step, so the line through them floors to the exact dimension (a latent chunk:
    /// within one).
    /// </summary>
    private sealed record Axis(Func<ModelRecipe, int> Get, Func<ModelRecipe, int, ModelRecipe> Set, int Low, int High);

    private static readonly Axis[] Axes =
    [
        new(r => r.Width, (r, v) => r with { Width = v }, 32, 64),
        new(r => r.LatentSize, (r, v) => r with { LatentSize = v }, 64, 64 + 420),
        new(r => r.Classes, (r, v) => r with { Classes = v }, 4, 8),
    ];

    private const int MaxCached = 256;
    private static readonly ConcurrentDictionary<ModelRecipe, Shapes> Cache = [];
    private static readonly Lock Gate = new();

    /// <summary>The generator's and the discriminator's sizes for a recipe; cached per shape of recipe.</summary>
    public static (NetworkSize Generator, NetworkSize Discriminator) Of(ModelRecipe recipe)
    {
        recipe = WhatShapesRead(recipe);
        var probed = Axes.Select(a => a.Get(recipe) > a.High).ToArray();
        var key = recipe;
        for (int i = 0; i < Axes.Length; i++)
            if (probed[i])
                key = Axes[i].Set(key, -1);
        if (!Cache.TryGetValue(key, out var shapes))
        {
            // One build at a time: a burst of new recipes costs time, never the memory of several probes at once.
            lock (Gate)
            {
                if (!Cache.TryGetValue(key, out shapes))
                {
                    shapes = Probe(recipe, probed);
                    if (Cache.Count >= MaxCached)
                        Cache.Clear();
                    Cache[key] = shapes;
                }
            }
        }
        var values = Axes.Select(a => (long)a.Get(recipe)).ToArray();
        return (shapes.Generator.At(values), shapes.Discriminator.At(values));
    }

    /// <summary>
    /// The recipe with the fields this family's networks do not read set to their defaults, so that varying them
    /// neither builds nor caches anything new: a translator has no latent, only some families read a width.
    /// </summary>
    private static ModelRecipe WhatShapesRead(ModelRecipe recipe)
    {
        var family = ModelFamily.Of(recipe);
        var plain = new ModelRecipe();
        return recipe with
        {
            LatentSize = family.SamplesFromNoise ? recipe.LatentSize : plain.LatentSize,
            Classes = family.Conditional ? recipe.Classes : 0,
            Width = family.Fields.Contains(FamilyFields.WidthField) ? recipe.Width : plain.Width,
            AttentionResolution = family.Fields.Contains(FamilyFields.AttentionField)
                ? recipe.AttentionResolution
                : plain.AttentionResolution,
            MappingLayers = family.Fields.Contains(FamilyFields.MappingField)
                ? recipe.MappingLayers
                : plain.MappingLayers,
            StyleMixing = 0, // a probability, not a size
        };
    }

    private sealed record Shapes(NetworkLines Generator, NetworkLines Discriminator);

    /// <summary>Builds the base probe (each probed value at its Low) and one per probed value at its High.</summary>
    private static Shapes Probe(ModelRecipe recipe, bool[] probed)
    {
        var origin = recipe;
        for (int i = 0; i < Axes.Length; i++)
            if (probed[i])
                origin = Axes[i].Set(origin, Axes[i].Low);
        var baseline = Measure(origin);
        var steps = new List<(int Axis, (Tensors G, Tensors D) Probe)>();
        for (int i = 0; i < Axes.Length; i++)
            if (probed[i])
                steps.Add((i, Measure(Axes[i].Set(origin, Axes[i].High))));
        return new Shapes(Lines(baseline.G, steps, p => p.G), Lines(baseline.D, steps, p => p.D));

        NetworkLines Lines(
            Tensors start,
            List<(int Axis, (Tensors G, Tensors D) Probe)> probes,
            Func<(Tensors G, Tensors D), Tensors> network
        )
        {
            if (probes.Any(p => network(p.Probe).All.Count != start.All.Count))
                throw Unprobeable(recipe);
            return new(
                start,
                probes
                    .Select(p =>
                        (p.Axis, Axes[p.Axis].Low, (long)(Axes[p.Axis].High - Axes[p.Axis].Low), network(p.Probe))
                    )
                    .ToList()
            );
        }
    }

    private static InvalidOperationException Unprobeable(ModelRecipe recipe) =>
        new($"A {recipe.Family} network changes its layers with its size; its bundle cannot be sized from probes.");

    /// <summary>Each tensor's name, shape and whether Adam keeps moments of it (a parameter, not a buffer).</summary>
    private sealed record Tensors(IReadOnlyList<(string Name, long[] Shape, bool Parameter)> All);

    private static (Tensors G, Tensors D) Measure(ModelRecipe recipe)
    {
        using var scope = NewDisposeScope();
        using var generator = GanNetworks.Generator(recipe);
        using var discriminator = GanNetworks.Discriminator(recipe);
        return (Describe(generator), Describe(discriminator));
    }

    private static Tensors Describe(nn.Module network)
    {
        var parameters = network.named_parameters().Select(p => p.name).ToHashSet();
        return new(network.state_dict().Select(kv => (kv.Key, kv.Value.shape, parameters.Contains(kv.Key))).ToList());
    }

    /// <summary>A network's tensors with every dimension a line in each probed value.</summary>
    private sealed record NetworkLines(
        Tensors Origin,
        IReadOnlyList<(int Axis, int Low, long Step, Tensors Probe)> Slopes
    )
    {
        /// <summary>The sizes at the given values of the axes (indexed as <see cref="Axes"/>).</summary>
        public NetworkSize At(long[] values)
        {
            long denominator = Slopes.Aggregate(1L, (d, s) => d * s.Step);
            long state = 0,
                parameters = 0;
            int parameterTensors = 0;
            for (int t = 0; t < Origin.All.Count; t++)
            {
                var (name, shape, parameter) = Origin.All[t];
                long elements = 1;
                for (int k = 0; k < shape.Length; k++)
                {
                    long scaled = shape[k] * denominator;
                    foreach (var (axis, low, step, probe) in Slopes)
                    {
                        var (probeName, probeShape, _) = probe.All[t];
                        if (probeName != name || probeShape.Length != shape.Length)
                            throw new InvalidOperationException(
                                $"Tensor '{name}' changes its rank with the recipe's size; "
                                    + "it cannot be sized by probes."
                            );
                        scaled += (probeShape[k] - shape[k]) * (values[axis] - low) * (denominator / step);
                    }
                    elements = checked(elements * Math.Max(0, scaled / denominator));
                }
                state = checked(state + elements);
                if (parameter)
                {
                    parameters += elements;
                    parameterTensors++;
                }
            }
            long names = Origin.All.Sum(t => System.Text.Encoding.UTF8.GetByteCount(t.Name));
            return new NetworkSize(state, Origin.All.Count, names, parameters, parameterTensors);
        }
    }
}
