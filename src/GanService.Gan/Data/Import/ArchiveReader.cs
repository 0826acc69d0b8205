using System.Formats.Tar;
using System.IO.Compression;

namespace GanService.Gan.Data.Import;

/// <summary>One file of an archive, read whole (within the limits).</summary>
public sealed record ArchiveEntry(string Name, byte[] Content);

/// <summary>
/// Reads the regular files of a zip, tar or tar.gz archive, in name order, under limits counted on the bytes
/// actually decompressed: entry count, bytes per entry and in all, compression ratio. Directories, links and
/// device entries are ignored; absolute or parent-relative names are rejected; nested archives are not opened.
/// </summary>
public static class ArchiveReader
{
    private static readonly string[] NestedArchives = [".zip", ".tar", ".gz", ".tgz", ".7z", ".rar", ".bz2", ".xz"];

    public static List<ArchiveEntry> Read(Stream upload, ImportLimits limits)
    {
        var entries = new List<ArchiveEntry>();
        long total = 0;
        void Add(string name, Stream content, long? compressed)
        {
            var safe = SafeName(name);
            if (safe is null || IsNested(safe)) return;
            if (entries.Count >= limits.MaxEntries)
                throw new DatasetImportException($"The archive has more than {limits.MaxEntries} files.", tooLarge: true);
            var bytes = ReadBounded(content, safe, limits.MaxEntryBytes, Math.Max(0, limits.MaxDecompressedBytes - total), limits.MaxDecompressedBytes);
            total += bytes.Length;
            if (compressed is > 0 && bytes.Length > 4096 && bytes.Length / (double)compressed > limits.MaxCompressionRatio)
                throw new DatasetImportException(
                    $"'{safe}' expands {bytes.Length / (double)compressed:F0}-fold; the limit is {limits.MaxCompressionRatio:F0}.", tooLarge: true);
            entries.Add(new ArchiveEntry(safe, bytes));
        }

        var head = new byte[4];
        int read = upload.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        upload.Position = 0;
        if (read == 0) throw new DatasetImportException("The upload is empty.");
        try
        {
            if (read >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] is 3 or 5)
                ReadZip(upload, Add);
            else if (read >= 2 && head[0] == 0x1f && head[1] == 0x8b)
                ReadTar(new GZipStream(upload, CompressionMode.Decompress, leaveOpen: true), Add);
            else
                ReadTar(upload, Add);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DatasetImportException($"The archive is damaged or truncated: {e.Message}");
        }
        if (entries.Count == 0) throw new DatasetImportException("The archive holds no files.");
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    private static void ReadZip(Stream upload, Action<string, Stream, long?> add)
    {
        using var zip = new ZipArchive(upload, ZipArchiveMode.Read, leaveOpen: true);
        foreach (var entry in zip.Entries)
        {
            if (entry.FullName.EndsWith('/')) continue;
            const int UnixFileTypeMask = 0xF000 << 16, UnixSymlink = 0xA000 << 16;
            if ((entry.ExternalAttributes & UnixFileTypeMask) == UnixSymlink) continue;
            using var stream = entry.Open();
            add(entry.FullName, stream, entry.CompressedLength);
        }
    }

    private static void ReadTar(Stream stream, Action<string, Stream, long?> add)
    {
        using var tar = new TarReader(stream, leaveOpen: true);
        while (tar.GetNextEntry(copyData: false) is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            if (entry.DataStream is null) continue;
            add(entry.Name, entry.DataStream, null);
        }
    }

    /// <summary>A relative path with forward slashes, or null for names that are never followed.</summary>
    public static string? SafeName(string name)
    {
        var normal = name.Replace('\\', '/');
        if (normal.StartsWith('/') || normal.Contains(':') || normal.Split('/').Any(part => part is ".." ))
            throw new DatasetImportException($"'{name}' points outside the archive; such names are refused.");
        normal = normal.TrimStart('.', '/');
        var parts = normal.Split('/', StringSplitOptions.RemoveEmptyEntries);
        // macOS resource forks and hidden files are not data.
        if (parts.Length == 0 || parts.Any(p => p.StartsWith('.')) || parts[0] == "__MACOSX") return null;
        return string.Join('/', parts);
    }

    private static bool IsNested(string name) => NestedArchives.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    private static byte[] ReadBounded(Stream content, string name, long perEntry, long remaining, long totalLimit)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = content.Read(chunk)) > 0)
        {
            if (buffer.Length + n > perEntry)
                throw new DatasetImportException($"'{name}' decompresses to more than {perEntry} bytes.", tooLarge: true);
            if (buffer.Length + n > remaining)
                throw new DatasetImportException($"The archive decompresses to more than {totalLimit} bytes.", tooLarge: true);
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }
}
