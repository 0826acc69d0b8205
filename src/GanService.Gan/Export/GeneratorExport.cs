using System.IO.Compression;
using System.Text;
using System.Text.Json;
using GanService.Gan.Checkpoints;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Export;

/// <summary>One generator to export and the prefix its weights get in the weights file.</summary>
public sealed record ExportedNetwork(string Prefix, nn.Module Network);

/// <summary>How the weights are stored: safetensors, or PyTorch's own state_dict file (torch.load).</summary>
public enum ExportFormat
{
    SafeTensors,
    PyTorch,
}

/// <summary>
/// Writes a generator as a zip PyTorch can use without this service: generator.safetensors (every exported
/// network's weights and inference buffers under its prefix), config.json (<see cref="ExportConfig"/>),
/// gan_generator.py (the family's network in PyTorch) and a README (docs/export.md).
/// </summary>
public static class GeneratorExport
{
    public const string WeightsFile = "generator.safetensors",
        PyTorchWeightsFile = "generator.pt";

    /// <summary>The zip's other entries: the network description, the PyTorch module, its how-to.</summary>
    private const string ConfigFile = "config.json",
        ModuleFile = "gan_generator.py",
        ReadmeFile = "README.md";

    /// <summary>The weight prefixes: the trained weights, their moving average, CycleGAN's B-to-A generator.</summary>
    public const string Raw = "generator",
        Ema = "ema";
    public const string Backward = "generator_ba";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Exports the generators of a checkpoint whose bundle the caller has opened.</summary>
    public static void Write(CheckpointReader reader, Stream output, ExportFormat format = ExportFormat.SafeTensors)
    {
        var plan = reader.Manifest.Plan;
        var family = ModelFamily.Of(plan.Model);
        var entries = new List<(string Prefix, string Entry)> { (Raw, CheckpointEntries.Generator) };
        if (family.TranslatesBothWays)
            entries.Add((Backward, CheckpointEntries.GeneratorBa));
        if (!family.Translates && plan.EmaDecay > 0)
            entries.Add((Ema, CheckpointEntries.Ema));
        var networks = new List<ExportedNetwork>();
        try
        {
            foreach (var (prefix, entry) in entries)
            {
                var network = GanNetworks.Generator(plan.Model);
                networks.Add(new ExportedNetwork(prefix, network));
                network.load(reader.Entry(entry));
                network.eval();
            }
            Write(plan, reader.Manifest.Step, networks, output, format);
        }
        finally
        {
            networks.ForEach(n => n.Network.Dispose());
        }
    }

    /// <summary>Exports networks built from <paramref name="plan"/>'s recipe, as they are.</summary>
    public static void Write(
        TrainingPlan plan,
        long step,
        IReadOnlyList<ExportedNetwork> networks,
        Stream output,
        ExportFormat format = ExportFormat.SafeTensors
    )
    {
        string weightsFile = format == ExportFormat.PyTorch ? PyTorchWeightsFile : WeightsFile;
        var family = ModelFamily.Of(plan.Model);
        string file = PythonFile(family);
        var described = networks.ToDictionary(n => n.Prefix, n => Describe(n.Prefix));
        string main = networks.Any(n => n.Prefix == Ema) ? Ema : Raw;
        var stage = (networks.First(n => n.Prefix == main).Network as IProgressive)?.Stage;
        var config = ExportConfig.Of(plan, step, weightsFile, described, main, stage);
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (prefix, network) in networks)
        foreach (var (name, tensor) in ExportedWeights.Of(network))
            tensors[$"{prefix}.{name}"] = tensor;
        var metadata = new Dictionary<string, string>
        {
            ["format"] = ExportConfig.Format,
            ["family"] = plan.Model.Family,
            ["step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // Stored, not deflated: weights barely compress, and the text entries are a few kilobytes.
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        using (var weights = zip.CreateEntry(weightsFile, CompressionLevel.NoCompression).Open())
        {
            if (format == ExportFormat.PyTorch)
                PyTorchStateDict.Write(weights, tensors);
            else
                SafeTensors.Write(weights, tensors, metadata);
        }
        WriteText(zip, ConfigFile, config.ToJsonString(Indented) + "\n");
        WriteText(zip, ModuleFile, Resource("common.py") + Resource(file));
        WriteText(zip, ReadmeFile, Readme(plan.Model, family));
    }

    private static string PythonFile(ModelFamily family) =>
        family.Name switch
        {
            ModelRecipe.Dcgan or ModelRecipe.ConditionalDcgan => "dcgan.py",
            _ => family.Name + ".py",
        };

    private static string Describe(string prefix) =>
        prefix switch
        {
            Ema => "the generator's exponential moving average (what the service samples from)",
            Backward => "CycleGAN's B-to-A generator",
            _ => "the trained generator's weights",
        };

    private static string Resource(string name)
    {
        var assembly = typeof(GeneratorExport).Assembly;
        using var stream = assembly.GetManifestResourceStream($"GanService.Gan.Export.python.{name}")
            ?? throw new InvalidOperationException($"The export's Python file {name} is not embedded.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static void WriteText(ZipArchive zip, string name, string text)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
        stream.Write(Encoding.UTF8.GetBytes(text));
    }

    private static string Readme(ModelRecipe model, ModelFamily family)
    {
        string example = family.Translates
            ? $"images = torch.rand(4, {model.Channels}, {model.ImageSize}, {model.ImageSize}) * 2 - 1"
                + "  # your images, in [-1, 1]\n"
                + "gan_generator.save_grid(g(images), \"translated.png\")"
            : "gan_generator.save_grid(g.sample(16, seed=0), \"grid.png\")";
        return $"""
            # A {model.Family} generator exported by GanService

            Needs only PyTorch. From this folder:

            ```python
            import torch, gan_generator
            g = gan_generator.load(".")
            {example}
            ```

            `config.json` describes the network and the sampling conventions; `generator.safetensors` holds the
            weights (prefixes listed under `weights.networks` in config.json); `gan_generator.py` rebuilds the network.
            See the service's docs/export.md for truncation, noise, labels, both CycleGAN directions and ONNX.

            """;
    }
}
