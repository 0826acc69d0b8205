using System.Text;

namespace GanService.Gan.Quality;

/// <summary>A forward-only reader of protobuf's wire format over one message's bytes.</summary>
internal sealed class ProtoReader(ReadOnlyMemory<byte> bytes)
{
    private readonly ReadOnlyMemory<byte> bytes = bytes;
    private int at;
    private int wire;

    /// <summary>The next field's number and wire type, or (0, 0) at the end of the message.</summary>
    public (int Field, int Wire) Next()
    {
        if (at >= bytes.Length)
            return (0, 0);
        long key = Varint();
        wire = (int)(key & 7);
        return ((int)(key >> 3), wire);
    }

    public long Varint()
    {
        var span = bytes.Span;
        long value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = span[at++];
            value |= (long)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
    }

    public float Fixed32()
    {
        float value = BitConverter.ToSingle(bytes.Span.Slice(at, 4));
        at += 4;
        return value;
    }

    public ReadOnlyMemory<byte> Bytes()
    {
        int length = checked((int)Varint());
        var slice = bytes.Slice(at, length);
        at += length;
        return slice;
    }

    public string String() => Encoding.UTF8.GetString(Bytes().Span);

    public ProtoReader Message() => new(Bytes());

    /// <summary>A repeated integer field, packed (one length-delimited run) or not (one value per key).</summary>
    public void Varints(int wireType, List<long> into)
    {
        if (wireType != 2)
        {
            into.Add(Varint());
            return;
        }
        var packed = new ProtoReader(Bytes());
        while (packed.at < packed.bytes.Length)
            into.Add(packed.Varint());
    }

    public void Floats(int wireType, List<float> into)
    {
        if (wireType != 2)
        {
            into.Add(Fixed32());
            return;
        }
        var packed = Bytes().Span;
        for (int i = 0; i + 4 <= packed.Length; i += 4)
            into.Add(BitConverter.ToSingle(packed.Slice(i, 4)));
    }

    public void Skip()
    {
        switch (wire)
        {
            case 0:
                Varint();
                break;
            case 1:
                at += 8;
                break;
            case 2:
                Bytes();
                break;
            case 5:
                at += 4;
                break;
            default:
                throw new InvalidDataException($"Unsupported protobuf wire type {wire}.");
        }
    }
}
