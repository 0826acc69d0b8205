using System.Formats.Tar;
using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>
/// Files the dataset tests upload, all made here: images, archives, IDX, CIFAR, and hostile variants.
/// </summary>
internal static class UploadFiles
{
    public static byte[] Png(int width, int height, Rgb24 colour)
    {
        using var image = new Image<Rgb24>(width, height, colour);
        using var output = new MemoryStream();
        image.SaveAsPng(output);
        return output.ToArray();
    }

    public static byte[] Jpeg(int width, int height, Rgb24 colour)
    {
        using var image = new Image<Rgb24>(width, height, colour);
        using var output = new MemoryStream();
        image.SaveAsJpeg(output);
        return output.ToArray();
    }

    public static byte[] Zip(params (string Name, byte[] Content)[] entries) => Zip(CompressionLevel.Optimal, entries);

    public static byte[] Zip(CompressionLevel level, params (string Name, byte[] Content)[] entries) =>
        ArchiveFiles.Zip(level, entries);

    public static byte[] TarGz(params (string Name, byte[] Content)[] entries)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
            foreach (var (name, content) in entries)
                tar.WriteEntry(
                    new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) }
                );
        return output.ToArray();
    }

    /// <summary>A tar with a symbolic link pointing outside, next to one real image.</summary>
    public static byte[] TarWithLink(byte[] image)
    {
        using var output = new MemoryStream();
        using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "passwd.png") { LinkName = "/etc/passwd" });
            tar.WriteEntry(
                new PaxTarEntry(TarEntryType.RegularFile, "real.png") { DataStream = new MemoryStream(image) }
            );
            tar.WriteEntry(
                new PaxTarEntry(TarEntryType.RegularFile, "copy.png") { DataStream = new MemoryStream(image) }
            );
        }
        return output.ToArray();
    }

    public static byte[] Idx(byte[] payload, int[] dims, bool gzip = false) => IdxFiles.Create(payload, dims, gzip);

    /// <summary>A zip of <paramref name="count"/> pairs A/i.png, B/i.png: flat colours, B the mirror of A.</summary>
    public static byte[] PairsZip(int count, int side) =>
        Zip(
            Enumerable
                .Range(0, count)
                .SelectMany(i =>
                    new[]
                    {
                        ($"A/{i}.png", Png(side, side, new Rgb24((byte)(40 * i), 90, 200))),
                        ($"B/{i}.png", Png(side, side, new Rgb24(200, 90, (byte)(40 * i)))),
                    }
                )
                .ToArray()
        );

    /// <summary>CIFAR-10 records: label byte then planar RGB, each image one flat colour.</summary>
    public static byte[] Cifar(params (byte Label, byte R, byte G, byte B)[] records)
    {
        var bytes = new List<byte>();
        foreach (var (label, r, g, b) in records)
        {
            bytes.Add(label);
            bytes.AddRange(Enumerable.Repeat(r, 1024));
            bytes.AddRange(Enumerable.Repeat(g, 1024));
            bytes.AddRange(Enumerable.Repeat(b, 1024));
        }
        return bytes.ToArray();
    }

    public static MultipartFormDataContent Form(
        string part,
        byte[] content,
        string fileName,
        params (string Key, string Value)[] fields
    )
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(content), part, fileName } };
        foreach (var (key, value) in fields)
            form.Add(new StringContent(value), key);
        return form;
    }
}
