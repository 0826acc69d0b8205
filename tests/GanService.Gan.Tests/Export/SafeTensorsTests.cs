using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using GanService.Gan.Export;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Export;

/// <summary>
/// The safetensors writer, read back by hand: the header length, the JSON header (dtype, shape, contiguous byte
/// ranges in name order, metadata) and the little-endian data. ExportParityTests reads its files in Python too.
/// </summary>
public class SafeTensorsTests
{
    [Fact]
    public void Header_and_data_read_back()
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["b.weight"] = tensor(new float[] { 1.5f, -2f, 3.25f, 0f, 7f, -0.5f }).reshape(2, 3),
            ["a.count"] = tensor(42L),
            ["c.alpha"] = tensor(new double[] { 0.25, -1 }),
        };
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, new Dictionary<string, string> { ["family"] = "dcgan" });
        var bytes = stream.ToArray();

        long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, length % 8);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)length).TrimEnd(' '));
        var root = header.RootElement;
        Assert.Equal("dcgan", root.GetProperty("__metadata__").GetProperty("family").GetString());
        var data = bytes.AsSpan(8 + (int)length);

        // Name order: a.count, b.weight, c.alpha, back to back.
        Assert.Equal(Entry("I64", [], 0, 8), Read(root, "a.count"));
        Assert.Equal(Entry("F32", [2, 3], 8, 32), Read(root, "b.weight"));
        Assert.Equal(Entry("F64", [2], 32, 48), Read(root, "c.alpha"));
        Assert.Equal(48, data.Length);
        Assert.Equal(42L, BinaryPrimitives.ReadInt64LittleEndian(data));
        Assert.Equal(3.25f, BinaryPrimitives.ReadSingleLittleEndian(data[(8 + 8)..]));
        Assert.Equal(-0.5f, BinaryPrimitives.ReadSingleLittleEndian(data[(8 + 20)..]));
        Assert.Equal(-1.0, BinaryPrimitives.ReadDoubleLittleEndian(data[40..]));
    }

    [Fact]
    public void Other_dtypes_are_refused_before_anything_is_written()
    {
        using var stream = new MemoryStream();
        using var bytes = tensor(new byte[] { 1, 2 });
        Assert.Throws<ArgumentException>(() =>
            SafeTensors.Write(stream, new Dictionary<string, Tensor> { ["x"] = bytes })
        );
        Assert.Equal(0, stream.Length);
    }

    private static string Entry(string dtype, long[] shape, long begin, long end) =>
        $"{dtype} [{string.Join(",", shape)}] {begin}-{end}";

    private static string Read(JsonElement root, string name)
    {
        var entry = root.GetProperty(name);
        var shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64());
        var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        return Entry(entry.GetProperty("dtype").GetString()!, shape.ToArray(), offsets[0], offsets[1]);
    }
}
