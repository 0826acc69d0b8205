using System.Text.Json.Nodes;
using GanService.Gan.Checkpoints;
using GanService.Gan.Export;
using GanService.Gan.Models;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Export;

/// <summary>
/// The checks of every family: small random networks (width 8, 20 latent entries) exported through a checkpoint
/// bundle, with TorchSharp's outputs to reproduce.
/// </summary>
internal static class ExportCases
{
    public static List<ExportCase> All(string root) =>
        [
            Dcgan(root),
            Conditional(root),
            BigGan(root, ExportFormat.SafeTensors),
            BigGan(root, ExportFormat.PyTorch),
            ProGan(root, fading: true),
            ProGan(root, fading: false),
            StyleGan(root),
            Pix2Pix(root),
            CycleGan(root),
        ];

    private static ModelRecipe Recipe(string family, int size = 32, int channels = 3, int classes = 0) =>
        new(family, size, channels, LatentSize: 20, Classes: classes)
        {
            Width = 8,
            AttentionResolution = 16,
            MappingLayers = 2,
        };

    private static TrainingPlan Plan(ModelRecipe recipe, double ema = 0) =>
        new(recipe, new OptimizerRecipe(), 10, 4, Seed: 3) { EmaDecay = ema };

    private static ExportCase Single(string root, string name, TrainingPlan plan, nn.Module generator) =>
        new(root, name, plan, ExportFormat.SafeTensors, (CheckpointEntries.Generator, generator));

    /// <summary>A case of two generators from seeds <paramref name="seed"/> and the next: the bundle's generator
    /// entry and <paramref name="second"/> (the moving average or CycleGAN's B-to-A generator).</summary>
    private static (ExportCase Case, nn.Module First, nn.Module Second) Pair(
        string root,
        string name,
        TrainingPlan plan,
        string second,
        ulong seed,
        ExportFormat format = ExportFormat.SafeTensors
    )
    {
        var (a, b) = (ExportCase.Generator(plan.Model, seed), ExportCase.Generator(plan.Model, seed + 1));
        return (new ExportCase(root, name, plan, format, (CheckpointEntries.Generator, a), (second, b)), a, b);
    }

    /// <summary>What the service's sampler renders for a seed from the case's bundle.</summary>
    private static Tensor Samples(
        ExportCase c,
        long seed,
        int count,
        IReadOnlyList<int>? labels = null,
        SamplingControls? controls = null
    )
    {
        using var sampler = GeneratorSampler.Load(c.Bundle, CPU);
        return sampler.Sample(seed, count, labels, controls);
    }

    private static ExportCase Dcgan(string root)
    {
        var plan = Plan(Recipe(ModelRecipe.Dcgan, size: 28, channels: 1), ema: 0.9);
        var (c, raw, ema) = Pair(root, "dcgan", plan, CheckpointEntries.Ema, 1);
        var z = c.Input("z", randn(3, 20));
        c.Forward("raw", GanNetworks.Call(raw, z, null), ["z"], weights: "generator");
        c.Forward("ema", GanNetworks.Call(ema, z, null), ["z"], weights: "ema");
        c.Sample("sample", Samples(c, 5, 3), new JsonObject { ["count"] = 3, ["seed"] = 5 });
        return c;
    }

    private static ExportCase Conditional(string root)
    {
        var plan = Plan(Recipe(ModelRecipe.ConditionalDcgan, classes: 4));
        var generator = ExportCase.Generator(plan.Model, 3);
        var c = Single(root, "conditional-dcgan", plan, generator);
        var (z, labels) = (c.Input("z", randn(3, 20)), c.Input("labels", tensor(new long[] { 3, 0, 2 })));
        c.Forward("forward", GanNetworks.Call(generator, z, labels), ["z", "labels"]);
        c.Sample(
            "sample",
            Samples(c, 6, 5, [2, 1]),
            new JsonObject
            {
                ["count"] = 5,
                ["seed"] = 6,
                ["labels"] = new JsonArray(2, 1),
            }
        );
        return c;
    }

    /// <summary>BigGAN, with its weights in safetensors or, as <c>format=pt</c> asks, PyTorch's format.</summary>
    private static ExportCase BigGan(string root, ExportFormat format)
    {
        var plan = Plan(Recipe(ModelRecipe.BigGan, classes: 3), ema: 0.9);
        string name = format == ExportFormat.PyTorch ? "biggan-pt" : "biggan";
        var (c, _, ema) = Pair(root, name, plan, CheckpointEntries.Ema, 4, format);
        var (z, labels) = (c.Input("z", randn(3, 20)), c.Input("labels", tensor(new long[] { 1, 2, 0 })));
        c.Forward("forward", GanNetworks.Call(ema, z, labels), ["z", "labels"]);
        c.Sample(
            "sample-truncated",
            Samples(c, 7, 4, controls: new SamplingControls(Truncation: 0.5)),
            new JsonObject
            {
                ["count"] = 4,
                ["seed"] = 7,
                ["truncation"] = 0.5,
            }
        );
        return c;
    }

    private static ExportCase ProGan(string root, bool fading)
    {
        var plan = Plan(Recipe(ModelRecipe.ProGan, channels: 1));
        var generator = ExportCase.Generator(plan.Model, 6);
        ((IProgressive)generator).SetStage(fading ? 16 : 32, fading ? 0.3 : 1);
        var c = Single(root, fading ? "progan-fading" : "progan-grown", plan, generator);
        var z = c.Input("z", randn(3, 20));
        c.Forward("forward", GanNetworks.Call(generator, z, null), ["z"]);
        if (fading)
            c.Sample("sample", Samples(c, 8, 2), new JsonObject { ["count"] = 2, ["seed"] = 8 });
        return c;
    }

    private static ExportCase StyleGan(string root)
    {
        var plan = Plan(Recipe(ModelRecipe.StyleGan), ema: 0.9);
        var (c, raw, ema) = Pair(root, "stylegan", plan, CheckpointEntries.Ema, 7);
        var style = (StyleGenerator)ema;
        var z = c.Input("z", randn(2, 20));
        // The noise Synthesize draws from a generator seeded 9, drawn beforehand from another seeded alike.
        var sizes = Widths.Resolutions(32).Skip(1).SelectMany(r => new[] { r, r }).Prepend(4).ToList();
        using (var draw = new torch.Generator(9))
            for (int i = 0; i < sizes.Count; i++)
                c.Input($"noise.{i}", randn([2, 1, sizes[i], sizes[i]], generator: draw));
        using var rng = new torch.Generator(9);
        var truncated = style.Broadcast(style.AverageW.lerp(style.Map(z), 0.7));
        c.Forward(
            "truncated-noise",
            style.Synthesize(truncated, NoiseMode.Random, rng),
            ["z"],
            kwargs: new JsonObject { ["truncation"] = 0.7 },
            noise: sizes.Select((_, i) => $"noise.{i}").ToArray()
        );
        c.Forward("const", GanNetworks.Call(ema, z, null), ["z"]);
        var controls = new SamplingControls(Truncation: 0.8, MixSeed: 11, MixFrom: 3);
        c.Sample(
            "sample-mixed",
            Samples(c, 10, 18, controls: controls),
            new JsonObject
            {
                ["count"] = 18,
                ["seed"] = 10,
                ["truncation"] = 0.8,
                ["mix"] = 11,
                ["mix_from"] = 3,
            }
        );
        return c;
    }

    private static ExportCase Pix2Pix(string root)
    {
        var plan = Plan(Recipe(ModelRecipe.Pix2Pix, size: 16));
        var generator = ExportCase.Generator(plan.Model, 10);
        var c = Single(root, "pix2pix", plan, generator);
        var images = c.Input("images", rand(2, 3, 16, 16) * 2 - 1);
        c.Forward("forward", Translated(c, images, backward: false), ["images"]);
        return c;
    }

    private static ExportCase CycleGan(string root)
    {
        var plan = Plan(Recipe(ModelRecipe.CycleGan, size: 16, channels: 1));
        var (c, _, _) = Pair(root, "cyclegan", plan, CheckpointEntries.GeneratorBa, 11);
        var images = c.Input("images", rand(2, 1, 16, 16) * 2 - 1);
        c.Forward("AtoB", Translated(c, images, backward: false), ["images"], direction: "AtoB");
        c.Forward("BtoA", Translated(c, images, backward: true), ["images"], direction: "BtoA");
        return c;
    }

    /// <summary>What the service's translator gives for the images, from the case's bundle.</summary>
    private static Tensor Translated(ExportCase c, Tensor images, bool backward)
    {
        using var sampler = TranslationSampler.Load(c.Bundle, CPU, backward: backward);
        return sampler.Translate(images);
    }
}
