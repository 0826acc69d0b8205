using System.Text.Json.Nodes;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Sampling;
using GanService.Gan.Training;

namespace GanService.Gan.Export;

/// <summary>
/// config.json of an export: what the Python module needs to rebuild the network (the family's layer
/// configuration, computed here from the same rules the networks are built by) and the sampling conventions.
/// </summary>
public static class ExportConfig
{
    public const string Format = "ganservice-generator/1";

    /// <summary>
    /// The config of <paramref name="plan"/>'s generator at <paramref name="step"/>: <paramref name="networks"/> are
    /// the weight prefixes in <paramref name="weightsFile"/> with what each holds, <paramref name="defaultNetwork"/>
    /// the one Python loads unless told, <paramref name="stage"/> a progressive generator's stage at this checkpoint.
    /// </summary>
    public static JsonObject Of(
        TrainingPlan plan,
        long step,
        string weightsFile,
        IReadOnlyDictionary<string, string> networks,
        string defaultNetwork,
        (int Resolution, double Alpha)? stage
    )
    {
        var model = plan.Model;
        var family = ModelFamily.Of(model);
        var weights = new JsonObject { ["file"] = weightsFile, ["default"] = defaultNetwork };
        var described = new JsonObject();
        foreach (var (name, what) in networks)
            described[name] = what;
        weights["networks"] = described;
        return new JsonObject
        {
            ["format"] = Format,
            ["family"] = model.Family,
            ["step"] = step,
            ["image_size"] = model.ImageSize,
            ["channels"] = model.Channels,
            ["latent_size"] = family.Translates ? null : model.LatentSize,
            ["classes"] = model.Classes,
            ["width"] = model.Width,
            ["weights"] = weights,
            ["layers"] = Layers(model, stage),
            ["sampling"] = Sampling(model, family),
        };
    }

    private static JsonObject Layers(ModelRecipe model, (int Resolution, double Alpha)? stage)
    {
        var resolutions = Widths.Resolutions(model.ImageSize);
        var widths = new JsonArray(resolutions.Select(r => (JsonNode)Widths.At(r, model.Width)).ToArray());
        var sizes = new JsonArray(resolutions.Select(r => (JsonNode)r).ToArray());
        switch (model.Family)
        {
            case ModelRecipe.Dcgan or ModelRecipe.ConditionalDcgan:
                var (baseSize, blocks) = Dcgan.Geometry(model.ImageSize);
                var dcgan = new JsonObject
                {
                    ["filters"] = DcganGenerator.Filters,
                    ["base_size"] = baseSize,
                    ["blocks"] = blocks,
                    ["slope"] = DcganGenerator.Slope,
                };
                if (model.Conditional)
                    dcgan["embedding_size"] = ConditionalDcganGenerator.EmbeddingSize;
                return dcgan;
            case ModelRecipe.BigGan:
                var chunks = BigGanGenerator.Chunks(model.LatentSize, resolutions.Count);
                return new JsonObject
                {
                    ["widths"] = widths,
                    ["resolutions"] = sizes,
                    ["chunks"] = new JsonArray(chunks.Select(c => (JsonNode)c).ToArray()),
                    ["embedding_size"] = BigGanGenerator.EmbeddingSize,
                    ["attention_resolution"] = model.AttentionResolution,
                };
            case ModelRecipe.ProGan:
                var (resolution, alpha) = stage ?? (model.ImageSize, 1);
                return new JsonObject
                {
                    ["widths"] = widths,
                    ["resolutions"] = sizes,
                    ["resolution"] = resolution,
                    ["alpha"] = alpha,
                };
            case ModelRecipe.StyleGan:
                return new JsonObject
                {
                    ["widths"] = widths,
                    ["resolutions"] = sizes,
                    ["mapping_layers"] = model.MappingLayers,
                    ["mapping_lr_multiplier"] = StyleGenerator.MappingLrMultiplier,
                    ["style_count"] = SamplingControls.StyleCount(model),
                };
            case ModelRecipe.Pix2Pix:
                var depth = (int)Math.Log2(model.ImageSize);
                var unet = Enumerable.Range(0, depth).Select(i => (JsonNode)UNetGenerator.Width(i)).ToArray();
                return new JsonObject { ["widths"] = new JsonArray(unet) };
            case ModelRecipe.CycleGan:
                return new JsonObject
                {
                    ["filters"] = ResnetGenerator.Filters,
                    ["residual_blocks"] = ResnetGenerator.Blocks(model.ImageSize),
                };
            default:
                throw new ArgumentException($"No export for family '{model.Family}'.", nameof(model));
        }
    }

    private static JsonObject Sampling(ModelRecipe model, ModelFamily family)
    {
        var sampling = new JsonObject
        {
            ["layout"] = "NCHW",
            ["channel_order"] = model.Channels == 3 ? "RGB" : "grey",
            ["output_range"] = new JsonArray(-1, 1),
            ["display"] = "values clamped to [-1, 1], mapped to bytes by round((x + 1) * 127.5)",
        };
        if (family.Translates)
        {
            sampling["input"] = "images [N, C, H, W] in [-1, 1] at image_size, the same layout as the output";
            return sampling;
        }
        sampling["latent"] = "z ~ N(0, 1), [N, latent_size], float32";
        sampling["seeded"] =
            "samples.png?seed=S draws z with torch.randn from a CPU generator seeded S, then any noise maps";
        if (family.Conditional)
            sampling["labels"] = "int64 class indices [N]; without a label list image i shows class i % classes";
        if (family.GrowsProgressively)
            sampling["stage"] = "rendered at the stage's resolution, enlarged (nearest) to image_size";
        switch (family.Truncation)
        {
            case TruncationTrick.RedrawLatents:
                sampling["truncation"] = "threshold: entries of z beyond it redrawn, then clipped";
                sampling["max_redraws"] = GeneratorSampler.MaxRedraws;
                break;
            case TruncationTrick.TowardAverageStyle:
                sampling["truncation"] = "psi: w = lerp(wAverage, w, psi)";
                break;
        }
        if (family.MixesStyles)
            sampling["noise"] = "random (N(0,1) per style layer, drawn after z, layer by layer) or const";
        return sampling;
    }
}
