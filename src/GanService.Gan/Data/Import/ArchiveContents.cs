using System.IO.Compression;

namespace GanService.Gan.Data.Import;

/// <summary>
/// The files of an opened archive (<see cref="ArchiveReader.Open"/>), read one at a time within the limits; it owns
/// what the listing opened (the zip directory, a gzip'd tar's spool file).
/// </summary>
public sealed class ArchiveContents : IDisposable
{
    private readonly ImportLimits limits;
    private readonly List<IDisposable> owned = [];
    private readonly List<Func<ArchiveEntry, byte[]>> readers = [];
    private long statedTotal,
        readTotal;

    internal ArchiveContents(ImportLimits limits) => this.limits = limits;

    /// <summary>The regular files, in name order once listed.</summary>
    public List<ArchiveEntry> Entries { get; } = [];

    /// <summary>The entry's bytes; each entry is read at most once per import, and counted toward the total.</summary>
    public byte[] Read(ArchiveEntry entry)
    {
        byte[] bytes;
        try
        {
            bytes = readers[entry.Index](entry);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new DatasetImportException($"The archive is damaged or truncated: {e.Message}");
        }
        if ((readTotal += bytes.Length) > limits.MaxDecompressedBytes)
            throw TooLarge();
        return bytes;
    }

    internal T Own<T>(T resource)
        where T : IDisposable
    {
        owned.Add(resource);
        return resource;
    }

    internal void AddZip(string name, ZipArchiveEntry entry)
    {
        Add(name, entry.Length);
        long compressed = entry.CompressedLength;
        if (entry.Length > BoundedStream.RatioFloor && entry.Length > compressed * limits.MaxCompressionRatio)
        {
            double ratio = entry.Length / (double)Math.Max(1, compressed);
            throw new DatasetImportException(
                $"'{name}' expands {ratio:F0}-fold; the limit is {limits.MaxCompressionRatio:F0}.",
                tooLarge: true
            );
        }
        readers.Add(e =>
        {
            using var stream = new BoundedStream(
                entry.Open(),
                $"'{e.Name}'",
                "file",
                limits.MaxEntryBytes,
                limits.MaxCompressionRatio,
                () => compressed
            );
            using var buffer = new MemoryStream((int)Math.Min(e.Length, limits.MaxEntryBytes));
            stream.CopyTo(buffer);
            return buffer.ToArray();
        });
    }

    /// <summary>A tar's entry lies as it is in a seekable file: its stated length is its real one.</summary>
    internal void AddTar(string name, Stream tar, long offset, long length)
    {
        Add(name, length);
        readers.Add(_ =>
        {
            var bytes = new byte[length];
            tar.Position = offset;
            tar.ReadExactly(bytes);
            return bytes;
        });
    }

    private void Add(string name, long length)
    {
        if (Entries.Count >= limits.MaxEntries)
            throw new DatasetImportException($"The archive has more than {limits.MaxEntries} files.", tooLarge: true);
        if (length > limits.MaxEntryBytes)
            throw new DatasetImportException(
                $"'{name}' decompresses to more than {limits.MaxEntryBytes} bytes.",
                tooLarge: true
            );
        if ((statedTotal += length) > limits.MaxDecompressedBytes)
            throw TooLarge();
        Entries.Add(new ArchiveEntry(name, length, Entries.Count));
    }

    private DatasetImportException TooLarge() =>
        new($"The archive decompresses to more than {limits.MaxDecompressedBytes} bytes.", tooLarge: true);

    public void Dispose()
    {
        for (int i = owned.Count - 1; i >= 0; i--)
            owned[i].Dispose();
    }
}
