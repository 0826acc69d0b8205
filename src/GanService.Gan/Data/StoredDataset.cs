using System.Buffers.Binary;
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
)
{
    /// <summary>Bytes of one item's pixels.</summary>
    public int ItemBytes => Channels * ImageSize * ImageSize;

    /// <summary>
    /// Where item <paramref name="index"/> of domain A (or B) starts in the serialised dataset whose pixels begin at
    /// <paramref name="pixelsAt"/>.
    /// </summary>
    public long ItemOffset(long pixelsAt, bool domainB, long index) =>
        pixelsAt + ((domainB ? Count : 0) + index) * ItemBytes;
}

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

    /// <summary>
    /// The header of a serialised dataset that begins with <paramref name="prefix"/>, and where its pixels begin;
    /// null when the prefix is too short to hold the header (then <paramref name="pixelsAt"/> is how long it must be).
    /// </summary>
    public static DatasetHeader? ReadHeader(ReadOnlySpan<byte> prefix, out int pixelsAt)
    {
        if (prefix.Length < Magic.Length + 4 || !prefix[..Magic.Length].SequenceEqual(Magic))
            throw new InvalidDataException("Not a stored GanService dataset.");
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(prefix[Magic.Length..]);
        int at = Magic.Length + 4;
        if (headerLength < 0 || headerLength > int.MaxValue - at)
            throw new InvalidDataException("The dataset header's length is out of range.");
        pixelsAt = at + headerLength;
        if (prefix.Length < pixelsAt)
            return null;
        return JsonSerializer.Deserialize<DatasetHeader>(prefix[at..pixelsAt], Json)
            ?? throw new InvalidDataException("The dataset header is empty.");
    }

    public static StoredDataset Deserialize(byte[] bytes)
    {
        var header = ReadHeader(bytes, out int at)
            ?? throw new InvalidDataException("The stored dataset is truncated.");
        int item = header.ItemBytes;
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
