using System.Formats.Tar;
using System.IO.Compression;

namespace GanService.Gan.Data.Import;

/// <summary>A regular file of an archive: its name, the size the archive states, and which file it is.</summary>
public sealed record ArchiveEntry(string Name, long Length, int Index);

/// <summary>
/// Lists the regular files of a zip, tar or tar.gz archive, in name order, without reading them; their bytes are
/// read one entry at a time (<see cref="ArchiveContents.Read"/>), so an import holds one entry, not the archive.
/// Limits are checked on the sizes the archive states before anything is read, and again on the bytes actually
/// decompressed: entry count, bytes per entry and in all, compression ratio. Directories, links and device entries
/// are ignored; absolute or parent-relative names are rejected; nested archives are not opened.
/// </summary>
public static class ArchiveReader
{
    private static readonly string[] NestedArchives = [".zip", ".tar", ".gz", ".tgz", ".7z", ".rar", ".bz2", ".xz"];

    /// <summary>Tar's own bytes around the entries a gzip'd tar inflates to: headers, padding, long names.</summary>
    private const long TarOverheadPerEntry = 4096;

    public static ArchiveContents Open(Stream upload, ImportLimits limits)
    {
        var head = new byte[4];
        int read = upload.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        upload.Position = 0;
        if (read == 0)
            throw new DatasetImportException("The upload is empty.");
        var contents = new ArchiveContents(limits);
        try
        {
            if (read >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] is 3 or 5)
                ListZip(upload, contents);
            else if (read >= 2 && head[0] == 0x1f && head[1] == 0x8b)
                ListTar(Spooled(upload, limits, contents), contents);
            else
                ListTar(upload, contents);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            contents.Dispose();
            throw new DatasetImportException($"The archive is damaged or truncated: {e.Message}");
        }
        catch
        {
            contents.Dispose();
            throw;
        }
        if (contents.Entries.Count == 0)
        {
            contents.Dispose();
            throw new DatasetImportException("The archive holds no files.");
        }
        contents.Entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return contents;
    }

    private static void ListZip(Stream upload, ArchiveContents contents)
    {
        var zip = contents.Own(new ZipArchive(upload, ZipArchiveMode.Read, leaveOpen: true));
        foreach (var entry in zip.Entries)
        {
            if (entry.FullName.EndsWith('/'))
                continue;
            const int UnixFileTypeMask = 0xF000 << 16,
                UnixSymlink = 0xA000 << 16;
            if ((entry.ExternalAttributes & UnixFileTypeMask) == UnixSymlink)
                continue;
            if (Named(entry.FullName) is { } name)
                contents.AddZip(name, entry);
        }
    }

    private static void ListTar(Stream stream, ArchiveContents contents)
    {
        using var tar = new TarReader(stream, leaveOpen: true);
        while (tar.GetNextEntry(copyData: false) is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                continue;
            if (entry.DataOffset < 0 || entry.DataOffset + entry.Length > stream.Length)
                throw new InvalidDataException($"'{entry.Name}' ends past the end of the archive.");
            if (Named(entry.Name) is { } name)
                contents.AddTar(name, stream, entry.DataOffset, entry.Length);
        }
    }

    /// <summary>
    /// Inflates a gzip'd tar into a temporary file (deleted on close), bounded in bytes and ratio, so that its
    /// entries can be listed first and read one at a time later, as a tar's are.
    /// </summary>
    private static Stream Spooled(Stream upload, ImportLimits limits, ArchiveContents contents)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ganservice-spool-{Guid.NewGuid():N}");
        var spool = contents.Own(
            new FileStream(
                path,
                FileMode.CreateNew,
                FileAccess.ReadWrite,
                FileShare.None,
                81920,
                FileOptions.DeleteOnClose
            )
        );
        long maxBytes = limits.MaxDecompressedBytes + limits.MaxEntries * TarOverheadPerEntry;
        using (var tar = BoundedStream.Open(upload, "The archive", "file", maxBytes, limits))
            tar.CopyTo(spool);
        spool.Position = 0;
        return spool;
    }

    private static string? Named(string name)
    {
        var safe = SafeName(name);
        bool nested = safe is not null && NestedArchives.Any(e => safe.EndsWith(e, StringComparison.OrdinalIgnoreCase));
        return nested ? null : safe;
    }

    /// <summary>A relative path with forward slashes, or null for names that are never followed.</summary>
    public static string? SafeName(string name)
    {
        var normal = name.Replace('\\', '/');
        if (normal.StartsWith('/') || normal.Contains(':') || normal.Split('/').Any(part => part is ".."))
            throw new DatasetImportException($"'{name}' points outside the archive; such names are refused.");
        normal = normal.TrimStart('.', '/');
        var parts = normal.Split('/', StringSplitOptions.RemoveEmptyEntries);
        // macOS resource forks and hidden files are not data.
        if (parts.Length == 0 || parts.Any(p => p.StartsWith('.')) || parts[0] == "__MACOSX")
            return null;
        return string.Join('/', parts);
    }
}
