using GanService.Gan.Cpu;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GanService.Gan.Quality;

/// <summary>
/// Runs a small ONNX convolutional graph with TorchSharp's ops: batched, on any device, in the same libtorch thread
/// pool as training. Each batch normalisation that follows a convolution is folded into it once, at load time.
/// Only the operators of the packaged ResNet-18 and its preprocessing graph are known; others are refused.
/// </summary>
internal sealed class OnnxNetwork : IDisposable
{
    private sealed record Step(string[] Inputs, string[] Outputs, Func<Tensor[], Tensor[]> Run);

    private readonly List<Step> steps = [];
    private readonly Dictionary<string, Tensor> weights = [];
    private readonly string input,
        output;

    public OnnxNetwork(OnnxModel model, Device device)
    {
        using var scope = NewDisposeScope();
        (input, output) = (model.Inputs.Single(), model.Outputs.Single());
        foreach (var (name, tensor) in model.Initializers)
            weights[name] = Constant(tensor, device);
        var nodes = model.Nodes.ToList();
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (node.OpType == "Conv" && FoldableNorm(nodes, i) is { } norm)
            {
                steps.Add(Convolution(node, norm));
                nodes.RemoveAt(i + 1);
            }
            else
                steps.Add(Compile(node));
        }
        // The originals of folded weights are no longer read.
        var read = steps.SelectMany(step => step.Inputs).ToHashSet();
        foreach (var name in weights.Keys.Where(name => !read.Contains(name)).ToList())
            if (weights.Remove(name, out var unused))
                unused.Dispose();
    }

    /// <summary>The graph's output for its input; each intermediate tensor is freed at its last use.</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor>(weights) { [input] = x };
        var lastUse = new Dictionary<string, int>();
        for (int s = 0; s < steps.Count; s++)
            foreach (var name in steps[s].Inputs)
                lastUse[name] = s;
        for (int s = 0; s < steps.Count; s++)
        {
            var step = steps[s];
            var results = step.Run([.. step.Inputs.Select(name => values[name])]);
            for (int o = 0; o < results.Length; o++)
                values[step.Outputs[o]] = results[o];
            foreach (var name in step.Inputs)
                if (lastUse[name] == s && name != input && !weights.ContainsKey(name))
                    if (values.Remove(name, out var done))
                        done.Dispose();
        }
        return values[output].MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var tensor in weights.Values)
            tensor.Dispose();
    }

    private static Tensor Constant(OnnxTensor source, Device device) =>
        tensor(source.Data, source.Dims, ScalarType.Float32).to(device).DetachFromDisposeScope();

    /// <summary>The batch normalisation right after a convolution, when nothing else reads the convolution.</summary>
    private static OnnxNode? FoldableNorm(List<OnnxNode> nodes, int conv)
    {
        string produced = nodes[conv].Outputs[0];
        if (conv + 1 >= nodes.Count || nodes[conv + 1] is not { OpType: "BatchNormalization" } norm)
            return null;
        bool onlyReader = norm.Inputs[0] == produced && nodes.Count(n => n.Inputs.Contains(produced)) == 1;
        return onlyReader ? norm : null;
    }

    private Step Convolution(OnnxNode conv, OnnxNode? norm)
    {
        var weight = weights[conv.Inputs[1]];
        var bias = conv.Inputs.Length > 2 ? weights[conv.Inputs[2]] : zeros(weight.shape[0], device: weight.device);
        if (norm is not null)
        {
            float epsilon = norm.Floats.GetValueOrDefault("epsilon", 1e-5f);
            var (gamma, beta, mean, variance) = (
                weights[norm.Inputs[1]],
                weights[norm.Inputs[2]],
                weights[norm.Inputs[3]],
                weights[norm.Inputs[4]]
            );
            var scale = gamma / (variance + epsilon).sqrt();
            weight = weight * scale.view(-1, 1, 1, 1);
            bias = beta + (bias - mean) * scale;
        }
        string name = $"folded#{steps.Count}";
        weights[name + "/w"] = weight.DetachFromDisposeScope();
        weights[name + "/b"] = bias.DetachFromDisposeScope();
        long[] strides = conv.Ints.GetValueOrDefault("strides", [1, 1]);
        if (conv.Ints.GetValueOrDefault("dilations", [1, 1]) is not [1, 1])
            throw new NotSupportedException("A dilated convolution is not supported here.");
        long group = conv.Ints.GetValueOrDefault("group", [1])[0];
        long[] kernel = [weight.shape[2], weight.shape[3]];
        if (kernel is [1, 1] && group == 1 && conv.Ints.GetValueOrDefault("pads", [0, 0, 0, 0]).All(p => p == 0))
            return Pointwise(conv, norm, name, weight, strides);
        return new Step([conv.Inputs[0], name + "/w", name + "/b"], norm?.Outputs ?? conv.Outputs, x =>
        {
            var (input, padding) = Padded(x[0], conv, kernel, strides, 0);
            var stride = (strides[0], strides[1]);
            return [Convolutions.Conv2d(input, x[1], x[2], stride, (padding[0], padding[1]), group)];
        });
    }

    /// <summary>
    /// A 1x1 convolution as the matrix product it is, over the strided pixels. libtorch's oneDNN gets some of these
    /// wrong on channels-last input on some CPUs (ResNet's 256-to-512 downsample among them), and the product reads
    /// channels-last memory in order (docs/quality.md, "Running it").
    /// </summary>
    private Step Pointwise(OnnxNode conv, OnnxNode? norm, string name, Tensor weight, long[] strides)
    {
        var matrix = weight.flatten(1).t().contiguous();
        weights[name + "/w"].Dispose();
        weights[name + "/w"] = matrix.DetachFromDisposeScope();
        return new Step([conv.Inputs[0], name + "/w", name + "/b"], norm?.Outputs ?? conv.Outputs, x =>
        {
            var input = x[0][.., .., TensorIndex.Slice(step: strides[0]), TensorIndex.Slice(step: strides[1])];
            return [input.permute(0, 2, 3, 1).matmul(x[1]).add(x[2]).permute(0, 3, 1, 2)];
        });
    }

    private Step Compile(OnnxNode node) =>
        node.OpType switch
        {
            "Conv" => Convolution(node, null),
            "Relu" => new(node.Inputs, node.Outputs, x => [F.relu(x[0])]),
            "Add" => new(node.Inputs, node.Outputs, x => [x[0] + x[1]]),
            "Sub" => new(node.Inputs, node.Outputs, x => [x[0] - x[1]]),
            "MaxPool" => Pool(node, max: true),
            "AveragePool" => Pool(node, max: false),
            "Split" => new(node.Inputs, node.Outputs, x =>
                x[0].split(node.Ints["split"], node.Ints.GetValueOrDefault("axis", [0])[0])
            ),
            "Concat" => new(node.Inputs, node.Outputs, x => [cat(x, node.Ints["axis"][0])]),
            _ => throw new NotSupportedException($"The ONNX operator '{node.OpType}' is not supported here."),
        };

    private static Step Pool(OnnxNode node, bool max)
    {
        long[] kernel = node.Ints["kernel_shape"];
        long[] strides = node.Ints.GetValueOrDefault("strides", [1, 1]);
        bool countPad = node.Ints.GetValueOrDefault("count_include_pad", [0])[0] != 0;
        return new(node.Inputs, node.Outputs, x =>
        {
            var (input, padding) = Padded(x[0], node, kernel, strides, max ? double.NegativeInfinity : 0);
            if (!max && !countPad && padding is not [0, 0])
                throw new NotSupportedException("An average pool that skips its padding is not supported here.");
            return max
                ? [F.max_pool2d(input, kernel, strides, padding)]
                : [F.avg_pool2d(input, kernel, strides, padding, count_include_pad: countPad)];
        });
    }

    /// <summary>
    /// ONNX pads are [top, left, bottom, right]; libtorch's ops pad evenly. This network's exporter pads stride-2
    /// layers by one less at the end, where that last row is never read: even padding by the start's amount then
    /// gives the same windows and keeps the input's memory layout. Any other padding is applied explicitly.
    /// </summary>
    private static (Tensor Input, long[] Padding) Padded(
        Tensor x,
        OnnxNode node,
        long[] kernel,
        long[] strides,
        double value
    )
    {
        long[] pads = node.Ints.GetValueOrDefault("pads", [0, 0, 0, 0]);
        bool even = true;
        for (int axis = 0; axis < 2; axis++)
        {
            long size = x.shape[2 + axis];
            long asked = (size + pads[axis] + pads[axis + 2] - kernel[axis]) / strides[axis];
            long evenly = (size + 2 * pads[axis] - kernel[axis]) / strides[axis];
            even &= pads[axis] >= pads[axis + 2] && asked == evenly;
        }
        return even ? (x, [pads[0], pads[1]]) : (F.pad(x, [pads[1], pads[3], pads[0], pads[2]], value: value), [0, 0]);
    }
}
