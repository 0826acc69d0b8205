using GanService.Gan.Cpu;
using static TorchSharp.torch;

namespace GanService.Gan.Quality;

/// <summary>
/// The ImageNet ResNet-18 of the ML.NET featurizer package, mapping images to its 512 pooled features. The weights
/// come with the package and are copied beside the binaries at build time, so nothing is downloaded at run time.
/// Images go through the package's own preprocessing graph: RGB values 0-255 in (docs/quality.md).
/// </summary>
public sealed class FeatureNetwork : IDisposable
{
    /// <summary>The name metrics are reported under, and real statistics are keyed by.</summary>
    public const string Name = "resnet18";

    /// <summary>The side the network was trained at; its preprocessing subtracts a mean image of this size.</summary>
    public const int NativeSide = 224;

    /// <summary>
    /// The side images are resized to unless a caller asks for another: it costs 0.6 of the native side's time and
    /// classifies as well on the preprocessing test (docs/quality.md, "The side").
    /// </summary>
    public const int DefaultSide = 160;

    public const int Dimensions = 512;

    private readonly OnnxNetwork preprocess,
        network;

    private FeatureNetwork(OnnxNetwork preprocess, OnnxNetwork network, Device device, int side) =>
        (this.preprocess, this.network, Device, Side) = (preprocess, network, device, side);

    public Device Device { get; }

    /// <summary>The side images are resized to before the network sees them.</summary>
    public int Side { get; }

    /// <summary>Where the build puts the package's models: beside the library's binaries.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    /// <summary>
    /// The network, read from <paramref name="directory"/> (the build's copy by default), for images resized to
    /// <paramref name="side"/>: a multiple of 32, as the network halves its input five times.
    /// </summary>
    public static FeatureNetwork Load(string? directory = null, Device? device = null, int side = DefaultSide)
    {
        if (side is < 64 or > 448 || side % 32 != 0)
            throw new ArgumentOutOfRangeException(
                nameof(side),
                side,
                "The side must be a multiple of 32 in [64, 448]."
            );
        directory ??= DefaultDirectory;
        device ??= CPU;
        string prep = Path.Combine(directory, "ResNetPrepOnnx", "ResNetPreprocess.onnx"),
            resnet = Path.Combine(directory, "ResNet18Onnx", "ResNet18.onnx");
        foreach (var file in new[] { prep, resnet })
            if (!File.Exists(file))
                throw new FileNotFoundException(
                    "The feature network's model is missing: it is copied from its package at build time.",
                    file
                );
        return new FeatureNetwork(
            new OnnxNetwork(AtSide(OnnxModel.Load(prep), side), device),
            new OnnxNetwork(AtSide(OnnxModel.Load(resnet), side), device),
            device,
            side
        );
    }

    /// <summary>
    /// The graphs adapted to another input side: the preprocessing's mean image resized to it, and the final
    /// average pool widened or narrowed to the whole last feature map (side / 32), so it still pools globally.
    /// </summary>
    private static OnnxModel AtSide(OnnxModel model, int side)
    {
        if (side == NativeSide)
            return model;
        var initializers = model.Initializers.ToDictionary(
            p => p.Key,
            p => p.Value.Dims is [1, 3, NativeSide, NativeSide] ? Resized(p.Value, side) : p.Value
        );
        var nodes = model.Nodes.Select(node =>
            node.OpType == "AveragePool" && node.Ints["kernel_shape"] is [NativeSide / 32, NativeSide / 32]
                ? node with
                {
                    Ints = new Dictionary<string, long[]>(node.Ints) { ["kernel_shape"] = [side / 32, side / 32] },
                }
                : node
        );
        return model with { Nodes = [.. nodes], Initializers = initializers };
    }

    private static OnnxTensor Resized(OnnxTensor image, int side)
    {
        using var scope = NewDisposeScope();
        var resized = nn.functional.interpolate(
            tensor(image.Data, image.Dims),
            [side, side],
            mode: InterpolationMode.Bilinear,
            align_corners: false,
            antialias: true
        );
        return image with { Dims = [1, 3, side, side], Data = resized.contiguous().data<float>().ToArray() };
    }

    /// <summary>
    /// The features [N, 512] in float64 on the CPU of images [N, C, H, W] with 1 or 3 channels: uint8 as datasets
    /// hold them, or floats in [-1, 1] as generators make them. They run <paramref name="batchSize"/> at a time.
    /// </summary>
    public Tensor Features(Tensor images, int batchSize = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        long count = images.shape[0];
        var parts = new List<Tensor>();
        using var scope = NewDisposeScope();
        using (no_grad())
            for (long start = 0; start < count; start += batchSize)
            {
                using var step = NewDisposeScope();
                var batch = Prepare(images.narrow(0, start, Math.Min(batchSize, count - start)));
                var pooled = network.Forward(preprocess.Forward(batch));
                parts.Add(pooled.flatten(1).to(ScalarType.Float64).cpu().MoveToOuterDisposeScope());
            }
        var all = parts.Count > 0 ? cat(parts, 0) : zeros(0, Dimensions, ScalarType.Float64);
        return all.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// RGB values 0-255 at the network's side: grey repeated to three channels, then resized bilinearly with
    /// antialiasing, as the dataset reader resizes; laid out channels-last, the layout the network runs fastest in.
    /// </summary>
    internal Tensor Prepare(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] is not (1 or 3))
            throw new ArgumentException("Images must be [N, 1 or 3, H, W].", nameof(images));
        var x = images.to(Device);
        x = x.dtype == ScalarType.Byte ? x.to(ScalarType.Float32) : (x.to(ScalarType.Float32) + 1) * 127.5;
        if (x.shape[1] == 1)
            x = x.expand(-1, 3, -1, -1);
        if (x.shape[2] != Side || x.shape[3] != Side)
            x = nn.functional.interpolate(
                x,
                [Side, Side],
                mode: InterpolationMode.Bilinear,
                align_corners: false,
                antialias: true
            );
        return ChannelsLast.Of(x.clamp(0, 255));
    }

    public void Dispose()
    {
        preprocess.Dispose();
        network.Dispose();
    }
}
