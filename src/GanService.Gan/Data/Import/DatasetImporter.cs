namespace GanService.Gan.Data.Import;

/// <summary>The upload formats <see cref="DatasetImporter"/> reads.</summary>
public static class UploadFormats
{
    public const string Archive = "archive", Idx = "idx", Cifar10 = "cifar10", Cifar100 = "cifar100";
    public static IReadOnlyList<string> All { get; } = [Archive, Idx, Cifar10, Cifar100];
}

/// <summary>What an import produced, and which entries it skipped (only with <c>skipInvalid</c>).</summary>
public sealed record ImportResult(StoredDataset Dataset, IReadOnlyList<string> Skipped);

/// <summary>Turns an upload into a <see cref="StoredDataset"/>: archives of images, IDX pairs, CIFAR batches.</summary>
public sealed class DatasetImporter(ImportLimits limits)
{
    private static readonly string[] Cifar10Classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    public ImportLimits Limits => limits;

    /// <summary>Imports one upload; IDX image/label pairs (matched in order) and CIFAR batches may come several at once.</summary>
    public ImportResult Import(string format, IReadOnlyList<Stream> files, IReadOnlyList<Stream> labels, ImportOptions options)
    {
        if (files.Count == 0) throw new DatasetImportException("No file was sent.");
        return format switch
        {
            UploadFormats.Archive when files.Count > 1 => throw new DatasetImportException("Send one archive per upload."),
            UploadFormats.Archive => new ArchiveImporter(limits, new ImageDecoder(limits)).Import(files[0], options),
            UploadFormats.Idx => new(ImportIdx(files, labels, options), []),
            UploadFormats.Cifar10 or UploadFormats.Cifar100 => new(ImportCifar(files, format, options), []),
            _ => throw new DatasetImportException($"Unknown format '{format}'; use {string.Join(", ", UploadFormats.All)}.", "format"),
        };
    }

    public ImportResult Import(string format, Stream file, Stream? labels, ImportOptions options) =>
        Import(format, [file], labels is null ? [] : [labels], options);

    private StoredDataset ImportIdx(IReadOnlyList<Stream> images, IReadOnlyList<Stream> labels, ImportOptions options)
    {
        if (labels.Count > 0 && labels.Count != images.Count)
            throw new DatasetImportException($"{images.Count} images file(s) but {labels.Count} labels file(s); send them in pairs.", "labels");
        var parts = images.Select((stream, i) => ReadIdx(stream, labels.Count > 0 ? labels[i] : null)).ToList();
        if (parts.Select(p => p.Size).Distinct().Count() > 1) throw new DatasetImportException("The IDX files hold images of different sizes.", "images");
        var pixels = Concat(parts.Select(p => p.Pixels));
        var all = labels.Count > 0 ? Concat(parts.Select(p => p.Labels!)) : null;
        var classes = all is null ? [] : Enumerable.Range(0, all.Max() + 1).Select(i => i.ToString()).ToArray();
        return Shaped("idx", pixels, parts.Sum(p => p.Count), 1, parts[0].Size, all, classes, options);
    }

    private static (byte[] Pixels, int Count, int Size, byte[]? Labels) ReadIdx(Stream images, Stream? labelStream)
    {
        (byte[] Pixels, int Count, int Rows, int Columns) idx;
        try
        {
            idx = IdxReader.ReadImages(images);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new DatasetImportException($"The IDX images file is invalid: {e.Message}", "images");
        }
        if (idx.Rows != idx.Columns) throw new DatasetImportException($"IDX images are {idx.Rows}x{idx.Columns}; only square images are supported.", "images");
        byte[]? labels = null;
        if (labelStream is not null)
        {
            try
            {
                labels = IdxReader.ReadLabels(labelStream);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                throw new DatasetImportException($"The IDX labels file is invalid: {e.Message}", "labels");
            }
            if (labels.Length != idx.Count)
                throw new DatasetImportException($"The labels file has {labels.Length} labels for {idx.Count} images.", "labels");
        }
        return (idx.Pixels, idx.Count, idx.Rows, labels);
    }

    private StoredDataset ImportCifar(IReadOnlyList<Stream> files, string format, ImportOptions options)
    {
        byte[] pixels, labels;
        try
        {
            (pixels, labels) = CifarReader.Read(files, labelBytes: format == UploadFormats.Cifar100 ? 2 : 1);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetImportException($"The CIFAR file is invalid: {e.Message}");
        }
        if (labels.Length == 0) throw new DatasetImportException("The CIFAR file holds no records.");
        var classes = format == UploadFormats.Cifar10
            ? Cifar10Classes
            : Enumerable.Range(0, labels.Max() + 1).Select(i => i.ToString()).ToArray();
        if (labels.Max() >= classes.Length) throw new DatasetImportException($"A CIFAR-10 label is {labels.Max()}; labels go up to 9.");
        return Shaped(format, pixels, labels.Length, CifarReader.Channels, CifarReader.Size, labels, classes, options);
    }

    private static byte[] Concat(IEnumerable<byte[]> arrays)
    {
        var list = arrays.ToList();
        if (list.Count == 1) return list[0];
        var all = new byte[list.Sum(a => (long)a.Length)];
        long at = 0;
        foreach (var a in list)
        {
            Buffer.BlockCopy(a, 0, all, (int)at, a.Length);
            at += a.Length;
        }
        return all;
    }

    /// <summary>Applies max items, the item limit, and the requested size and channels (bilinear, antialiased).</summary>
    private StoredDataset Shaped(string format, byte[] pixels, int count, int channels, int size, byte[]? labels,
        IReadOnlyList<string> classes, ImportOptions options)
    {
        int keep = Math.Min(count, options.MaxItems ?? int.MaxValue);
        if (keep > limits.MaxItems)
            throw new DatasetImportException($"The dataset has {keep} items; the limit is {limits.MaxItems} (set maxItems to import fewer).", tooLarge: true);
        int item = channels * size * size;
        if (keep < count)
        {
            pixels = pixels[..(keep * item)];
            labels = labels?[..keep];
        }
        int targetSize = options.ImageSize ?? size, targetChannels = options.Channels ?? channels;
        using var native = new ImageDataset(format, pixels, keep, channels, size, labels);
        using var shaped = native.Reshape(targetSize, targetChannels);
        var kind = labels is null ? DatasetKind.Images : DatasetKind.Labelled;
        return new StoredDataset(new DatasetHeader(format, kind, keep, 0, targetChannels, targetSize, labels is null ? [] : classes),
            ReferenceEquals(shaped, native) ? pixels : shaped.PixelBytes(), null, labels);
    }
}
