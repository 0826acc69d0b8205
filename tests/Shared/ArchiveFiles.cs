using System.IO.Compression;

namespace GanService.Testing;

/// <summary>Zip archives made in tests, for the importer's and the upload endpoint's tests alike.</summary>
public static class ArchiveFiles
{
    public static byte[] Zip(CompressionLevel level, params (string Name, byte[] Content)[] entries)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, content) in entries)
            {
                using var stream = zip.CreateEntry(name, level).Open();
                stream.Write(content);
            }
        return output.ToArray();
    }
}
