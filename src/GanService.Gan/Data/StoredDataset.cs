using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GanService.Gan.Data;

[JsonConverter(typeof(JsonStringEnumConverter<DatasetKind>))]
public enum DatasetKind
{
    Images,
    Labelled,
    Paired,
    Unpaired,
}

/// <summary>What a stored dataset holds. For paired data B has the same count as A; unpaired domains differ.</summary>
public sealed record DatasetHeader(
    string Format,
    DatasetKind Kind,
    int Count,
    int CountB,
    int Channels,
    int ImageSize,
    IReadOnlyList<string> Classes
);

/// <summary>
/// The compact, training-ready form of an imported dataset: uint8 pixels [N, C, H, W] (and a second domain for
/// paired and unpaired data), one label byte per item where labelled. Serialised deterministically, so its SHA-256
/// identifies the content: the same upload with the same options is the same dataset.
/// </summary>
public sealed class StoredDataset
{
    private static readonly byte[] Magic = "GANDS1\n"u8.ToArray();
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public StoredDataset(DatasetHeader header, byte[] pixels, byte[]? pixelsB = null, byte[]? labels = null)
    {
        long item = (long)header.Channels * header.ImageSize * header.ImageSize;
        if (
            pixels.LongLength != header.Count * item
            || (pixelsB?.LongLength ?? 0) != header.CountB * item
            || (labels is not null && labels.Length != header.Count)
        )
            throw new ArgumentException("Pixel or label arrays do not match the header.");
        Header = header;
        Pixels = pixels;
        PixelsB = pixelsB;
        Labels = labels;
    }

    public DatasetHeader Header { get; }
    public byte[] Pixels { get; }
    public byte[]? PixelsB { get; }
    public byte[]? Labels { get; }

    /// <summary>Items per class, in class order (empty when unlabelled).</summary>
    public IReadOnlyList<int> ClassCounts()
    {
        var counts = new int[Header.Classes.Count];
        if (Labels is not null)
            foreach (var label in Labels)
                if (label < counts.Length)
                    counts[label]++;
        return counts;
    }

    public byte[] Serialize()
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(Header, Json);
        // Sized once: a dataset may be near its byte budget, and a growing stream would hold up to twice that.
        long size =
            Magic.Length
            + 4L
            + header.Length
            + Pixels.LongLength
            + (PixelsB?.LongLength ?? 0)
            + (Labels?.LongLength ?? 0);
        using var output = new MemoryStream(checked((int)size));
        output.Write(Magic);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, header.Length);
        output.Write(length);
        output.Write(header);
        output.Write(Pixels);
        if (PixelsB is not null)
            output.Write(PixelsB);
        if (Labels is not null)
            output.Write(Labels);
        return output.ToArray();
    }

    public static StoredDataset Deserialize(byte[] bytes)
    {
        if (bytes.Length < Magic.Length + 4 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException("Not a stored GanService dataset.");
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(Magic.Length));
        int at = Magic.Length + 4;
        var header = JsonSerializer.Deserialize<DatasetHeader>(Encoding.UTF8.GetString(bytes, at, headerLength), Json)
            ?? throw new InvalidDataException("The dataset header is empty.");
        at += headerLength;
        int item = header.Channels * header.ImageSize * header.ImageSize;
        byte[] Take(long length)
        {
            if (at + length > bytes.Length)
                throw new InvalidDataException("The stored dataset is truncated.");
            var part = bytes.AsSpan(at, (int)length).ToArray();
            at += (int)length;
            return part;
        }
        var pixels = Take((long)header.Count * item);
        var pixelsB = header.CountB > 0 ? Take((long)header.CountB * item) : null;
        var labels = header.Kind == DatasetKind.Labelled ? Take(header.Count) : null;
        return new StoredDataset(header, pixels, pixelsB, labels);
    }

    /// <summary>Domain A (or the only images) as a training dataset.</summary>
    public ImageDataset ToImageDataset(string name) =>
        new(name, Pixels, Header.Count, Header.Channels, Header.ImageSize, Labels);

    /// <summary>Domain B of paired or unpaired data, or null.</summary>
    public ImageDataset? ToImageDatasetB(string name) =>
        PixelsB is null ? null : new(name + "/B", PixelsB, Header.CountB, Header.Channels, Header.ImageSize);
}
