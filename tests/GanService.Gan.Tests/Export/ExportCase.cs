using System.IO.Compression;
using System.Text.Json.Nodes;
using GanService.Gan.Checkpoints;
using GanService.Gan.Export;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Export;

/// <summary>
/// One family's export, unzipped into a folder, with the inputs and TorchSharp's outputs that check_export.py runs
/// the Python module on: inputs.safetensors (written by the exporter's own writer) and checks.json.
/// </summary>
internal sealed class ExportCase
{
    private readonly Dictionary<string, Tensor> tensors = [];
    private readonly JsonArray checks = [];

    public ExportCase(
        string root,
        string name,
        TrainingPlan plan,
        ExportFormat format,
        params (string Entry, nn.Module Network)[] networks
    )
    {
        Folder = Path.Combine(root, name);
        Directory.CreateDirectory(Folder);
        Plan = plan;
        Bundle = CheckpointBundle.Write(
            new CheckpointManifest(CheckpointBundle.Format, plan, 7, 1, DateTimeOffset.UnixEpoch),
            networks.Select(n => (n.Entry, (Action<Stream>)(s => Save(n.Network, s)))).ToList()
        );
        using var export = new MemoryStream();
        using (var reader = CheckpointBundle.Open(Bundle))
            GeneratorExport.Write(reader, export, format);
        export.Position = 0;
        using var zip = new ZipArchive(export, ZipArchiveMode.Read);
        zip.ExtractToDirectory(Folder);
    }

    public string Folder { get; }
    public TrainingPlan Plan { get; }
    public byte[] Bundle { get; }

    /// <summary>Stores an input for Python under <paramref name="name"/>, and gives it back.</summary>
    public Tensor Input(string name, Tensor value)
    {
        tensors[name] = value.detach().cpu().contiguous();
        return value;
    }

    /// <summary>The module called on <paramref name="inputs"/> (with noise maps and keywords) must give this.</summary>
    public void Forward(
        string name,
        Tensor expected,
        string[] inputs,
        string? weights = null,
        string? direction = null,
        JsonObject? kwargs = null,
        string[]? noise = null
    )
    {
        var check = Check(name, "forward", expected, weights, kwargs);
        check["inputs"] = new JsonArray(inputs.Select(i => (JsonNode)i).ToArray());
        if (direction is not null)
            check["direction"] = direction;
        if (noise is not null)
            check["noise"] = new JsonArray(noise.Select(n => (JsonNode)n).ToArray());
    }

    /// <summary>The module's seeded sample(**kwargs) must give this.</summary>
    public void Sample(string name, Tensor expected, JsonObject kwargs) =>
        Check(name, "sample", expected, null, kwargs);

    public void Save()
    {
        using (var file = File.Create(Path.Combine(Folder, "inputs.safetensors")))
            SafeTensors.Write(file, tensors);
        File.WriteAllText(Path.Combine(Folder, "checks.json"), checks.ToJsonString());
    }

    private JsonObject Check(string name, string call, Tensor expected, string? weights, JsonObject? kwargs)
    {
        Input("expected." + name, expected);
        var check = new JsonObject
        {
            ["name"] = name,
            ["call"] = call,
            ["expected"] = "expected." + name,
        };
        if (weights is not null)
            check["weights"] = weights;
        if (kwargs is not null)
            check["kwargs"] = kwargs;
        checks.Add(check);
        return check;
    }

    private static void Save(nn.Module network, Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        network.save(writer);
    }

    /// <summary>
    /// A generator initialised from a seed, in eval mode, with batch-norm statistics and the average w drawn at
    /// random so that the export must carry its buffers, not only its weights.
    /// </summary>
    public static nn.Module Generator(ModelRecipe recipe, ulong seed)
    {
        var network = GanNetworks.Generator(recipe);
        using var rng = new torch.Generator(seed);
        Initialization.Apply(network, rng);
        using (no_grad())
        {
            foreach (var (name, buffer) in network.named_buffers())
            {
                if (name.EndsWith("running_mean") || name.EndsWith("wAverage"))
                    buffer.normal_(0, 0.3, rng);
                else if (name.EndsWith("running_var"))
                    buffer.uniform_(0.5, 1.5, rng);
            }
            // Biases and gains start at constants: moved at random too, so that a misplaced one shows.
            foreach (var (name, parameter) in network.named_parameters())
                if (name.EndsWith("bias") || name.EndsWith("gamma") || name.EndsWith("noiseStrength"))
                    parameter.add_(randn(parameter.shape, generator: rng) * 0.1);
        }
        network.eval();
        return network;
    }
}
