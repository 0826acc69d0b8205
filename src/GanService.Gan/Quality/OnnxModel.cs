namespace GanService.Gan.Quality;

/// <summary>One tensor stored in an ONNX file: a weight (initializer) or a node's constant attribute.</summary>
public sealed record OnnxTensor(string Name, long[] Dims, float[] Data);

/// <summary>One operator of an ONNX graph, with its integer, float and tensor attributes.</summary>
public sealed record OnnxNode(
    string OpType,
    string Name,
    string[] Inputs,
    string[] Outputs,
    IReadOnlyDictionary<string, long[]> Ints,
    IReadOnlyDictionary<string, float> Floats,
    IReadOnlyDictionary<string, OnnxTensor> Tensors
);

/// <summary>
/// The few parts of an ONNX model that running a convolutional network needs: the node list, the float weights,
/// and the graph's input and output names. A small reader of the protobuf wire format, rather than a package,
/// because only a handful of fields are read (see docs/quality.md, "Running the feature network").
/// </summary>
public sealed record OnnxModel(
    IReadOnlyList<OnnxNode> Nodes,
    IReadOnlyDictionary<string, OnnxTensor> Initializers,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs
)
{
    public static OnnxModel Load(string path) => Parse(File.ReadAllBytes(path));

    public static OnnxModel Parse(byte[] bytes)
    {
        var model = new ProtoReader(bytes);
        while (model.Next() is var (field, _) && field != 0)
            if (field == 7) // ModelProto.graph
                return ParseGraph(model.Message());
            else
                model.Skip();
        throw new InvalidDataException("The ONNX file has no graph.");
    }

    private static OnnxModel ParseGraph(ProtoReader graph)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        while (graph.Next() is var (field, _) && field != 0)
            switch (field)
            {
                case 1:
                    nodes.Add(ParseNode(graph.Message()));
                    break;
                case 5:
                    var tensor = ParseTensor(graph.Message());
                    initializers[tensor.Name] = tensor;
                    break;
                case 11 or 12:
                    var value = graph.Message();
                    string name = "";
                    while (value.Next() is var (f, _) && f != 0)
                        if (f == 1)
                            name = value.String();
                        else
                            value.Skip();
                    (field == 11 ? inputs : outputs).Add(name);
                    break;
                default:
                    graph.Skip();
                    break;
            }
        // Older exporters list the weights among the inputs too; the graph's real inputs are the rest.
        inputs.RemoveAll(initializers.ContainsKey);
        return new OnnxModel(nodes, initializers, inputs, outputs);
    }

    private static OnnxNode ParseNode(ProtoReader node)
    {
        List<string> inputs = [],
            outputs = [];
        string name = "",
            op = "";
        var ints = new Dictionary<string, long[]>();
        var floats = new Dictionary<string, float>();
        var tensors = new Dictionary<string, OnnxTensor>();
        while (node.Next() is var (field, _) && field != 0)
            switch (field)
            {
                case 1:
                    inputs.Add(node.String());
                    break;
                case 2:
                    outputs.Add(node.String());
                    break;
                case 3:
                    name = node.String();
                    break;
                case 4:
                    op = node.String();
                    break;
                case 5:
                    ParseAttribute(node.Message(), ints, floats, tensors);
                    break;
                default:
                    node.Skip();
                    break;
            }
        return new OnnxNode(op, name, [.. inputs], [.. outputs], ints, floats, tensors);
    }

    private static void ParseAttribute(
        ProtoReader attribute,
        Dictionary<string, long[]> ints,
        Dictionary<string, float> floats,
        Dictionary<string, OnnxTensor> tensors
    )
    {
        string name = "";
        var values = new List<long>();
        float? f = null;
        OnnxTensor? t = null;
        while (attribute.Next() is var (field, wire) && field != 0)
            switch (field)
            {
                case 1:
                    name = attribute.String();
                    break;
                case 2:
                    f = attribute.Fixed32();
                    break;
                case 3:
                    values.Add(attribute.Varint());
                    break;
                case 5:
                    t = ParseTensor(attribute.Message());
                    break;
                case 8:
                    attribute.Varints(wire, values);
                    break;
                default:
                    attribute.Skip();
                    break;
            }
        if (values.Count > 0)
            ints[name] = [.. values];
        if (f is { } single)
            floats[name] = single;
        if (t is not null)
            tensors[name] = t with { Name = name };
    }

    private static OnnxTensor ParseTensor(ProtoReader tensor)
    {
        var dims = new List<long>();
        var floats = new List<float>();
        var longs = new List<long>();
        int type = 1;
        string name = "";
        ReadOnlyMemory<byte> raw = default;
        while (tensor.Next() is var (field, wire) && field != 0)
            switch (field)
            {
                case 1:
                    tensor.Varints(wire, dims);
                    break;
                case 2:
                    type = (int)tensor.Varint();
                    break;
                case 4:
                    tensor.Floats(wire, floats);
                    break;
                case 7:
                    tensor.Varints(wire, longs);
                    break;
                case 8:
                    name = tensor.String();
                    break;
                case 9:
                    raw = tensor.Bytes();
                    break;
                default:
                    tensor.Skip();
                    break;
            }
        float[] data = type switch
        {
            1 when raw.Length > 0 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw.Span).ToArray(),
            1 => [.. floats],
            7 when raw.Length > 0 => System
                .Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(raw.Span)
                .ToArray()
                .Select(v => (float)v)
                .ToArray(),
            7 => [.. longs.Select(v => (float)v)],
            _ => throw new InvalidDataException($"The ONNX tensor '{name}' has data type {type}, not float."),
        };
        return new OnnxTensor(name, [.. dims], data);
    }
}
