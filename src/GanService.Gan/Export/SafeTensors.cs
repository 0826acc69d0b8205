using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace GanService.Gan.Export;

/// <summary>
/// Writes the safetensors format (an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the raw little-endian data), which PyTorch, JAX and the Hugging Face tools read. Small
/// enough to write here rather than take a dependency for.
/// </summary>
public static class SafeTensors
{
    /// <summary>
    /// Writes the tensors, in name order, with string <paramref name="metadata"/> under <c>__metadata__</c>.
    /// Float32, float64 and int64 tensors are written; anything else is refused.
    /// </summary>
    public static void Write(
        Stream output,
        IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null
    )
    {
        // The data is written as the machine holds it; every platform TorchSharp ships for is little-endian.
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian.");
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var name in names)
        {
            var tensor = tensors[name];
            long end = offset + tensor.numel() * ElementSize(tensor.dtype);
            header[name] = new
            {
                dtype = DtypeName(tensor.dtype),
                shape = tensor.shape,
                data_offsets = new[] { offset, end },
            };
            offset = end;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        // Padded with spaces to a multiple of 8, as the format recommends, so the data starts aligned.
        int padded = (json.Length + 7) / 8 * 8;
        Span<byte> length = stackalloc byte[8];
        BitConverter.TryWriteBytes(length, (ulong)padded);
        output.Write(length);
        output.Write(json);
        output.Write(Encoding.ASCII.GetBytes(new string(' ', padded - json.Length)));
        foreach (var name in names)
            WriteData(output, tensors[name]);
    }

    /// <summary>The format's name for a dtype.</summary>
    public static string DtypeName(ScalarType type) =>
        type switch
        {
            ScalarType.Float32 => "F32",
            ScalarType.Float64 => "F64",
            ScalarType.Int64 => "I64",
            _ => throw new ArgumentException($"safetensors export does not write {type} tensors.", nameof(type)),
        };

    private static long ElementSize(ScalarType type) => type == ScalarType.Float32 ? 4 : 8;

    private static void WriteData(Stream output, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var values = tensor.detach().cpu().contiguous();
        switch (values.dtype)
        {
            case ScalarType.Float32:
                output.Write(MemoryMarshal.AsBytes<float>(values.data<float>().ToArray()));
                break;
            case ScalarType.Float64:
                output.Write(MemoryMarshal.AsBytes<double>(values.data<double>().ToArray()));
                break;
            default:
                output.Write(MemoryMarshal.AsBytes<long>(values.data<long>().ToArray()));
                break;
        }
    }
}
