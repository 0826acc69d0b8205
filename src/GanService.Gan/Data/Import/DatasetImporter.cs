namespace GanService.Gan.Data.Import;

/// <summary>The upload formats <see cref="DatasetImporter"/> reads.</summary>
public static class UploadFormats
{
    public const string Archive = "archive",
        Idx = "idx",
        Cifar10 = "cifar10",
        Cifar100 = "cifar100";
    public static IReadOnlyList<string> All { get; } = [Archive, Idx, Cifar10, Cifar100];
}

/// <summary>What an import produced, and which entries it skipped (only with <c>skipInvalid</c>).</summary>
public sealed record ImportResult(StoredDataset Dataset, IReadOnlyList<string> Skipped);

/// <summary>Turns an upload into a <see cref="StoredDataset"/>: archives of images, IDX pairs, CIFAR batches.</summary>
public sealed class DatasetImporter(ImportLimits limits)
{
    private static readonly string[] Cifar10Classes =
    [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ];

    public ImportLimits Limits => limits;

    /// <summary>
    /// Imports one upload; IDX image/label pairs (matched in order) and CIFAR batches may come several at once.
    /// </summary>
    public ImportResult Import(
        string format,
        IReadOnlyList<Stream> files,
        IReadOnlyList<Stream> labels,
        ImportOptions options
    )
    {
        if (files.Count == 0)
            throw new DatasetImportException("No file was sent.");
        string part = format == UploadFormats.Idx ? "images" : "file";
        if (files.Count > limits.MaxParts || labels.Count > limits.MaxParts)
            throw new DatasetImportException(
                $"{Math.Max(files.Count, labels.Count)} files were sent as one dataset; "
                    + $"the limit is {limits.MaxParts}.",
                files.Count > limits.MaxParts ? part : "labels",
                tooLarge: true
            );
        return format switch
        {
            UploadFormats.Archive when files.Count > 1 => throw new DatasetImportException(
                "Send one archive per upload."
            ),
            UploadFormats.Archive => new ArchiveImporter(limits, new ImageDecoder(limits)).Import(files[0], options),
            UploadFormats.Idx => new(ImportIdx(files, labels, options), []),
            UploadFormats.Cifar10 or UploadFormats.Cifar100 => new(ImportCifar(files, format, options), []),
            _ => throw new DatasetImportException(
                $"Unknown format '{format}'; use {string.Join(", ", UploadFormats.All)}.",
                "format"
            ),
        };
    }

    public ImportResult Import(string format, Stream file, Stream? labels, ImportOptions options) =>
        Import(format, [file], labels is null ? [] : [labels], options);

    /// <summary>
    /// Every part's header first, then the budget for what the import will produce, and only then the payloads:
    /// no buffer is allocated for more than the limits allow.
    /// </summary>
    private StoredDataset ImportIdx(IReadOnlyList<Stream> images, IReadOnlyList<Stream> labels, ImportOptions options)
    {
        if (labels.Count > 0 && labels.Count != images.Count)
            throw new DatasetImportException(
                $"{images.Count} images file(s) but {labels.Count} labels file(s); send them in pairs.",
                "labels"
            );
        var files = new List<IdxFile>();
        try
        {
            var parts = images.Select(stream => Opened(files, stream, 3, "images")).ToList();
            var labelParts = labels.Select(stream => Opened(files, stream, 1, "labels")).ToList();
            foreach (var p in parts.Where(p => p.Dims[1] != p.Dims[2]))
                throw new DatasetImportException(
                    $"IDX images are {p.Dims[1]}x{p.Dims[2]}; only square images are supported.",
                    "images"
                );
            if (parts.Select(p => p.Dims[1]).Distinct().Count() > 1)
                throw new DatasetImportException("The IDX files hold images of different sizes.", "images");
            foreach (var (p, l) in parts.Zip(labelParts).Where(pair => pair.First.Count != pair.Second.Count))
                throw new DatasetImportException(
                    $"The labels file has {l.Count} labels for {p.Count} images.",
                    "labels"
                );

            int size = parts[0].Dims[1];
            long keep = Math.Min(parts.Sum(p => (long)p.Count), options.MaxItems ?? long.MaxValue);
            CheckBudget(keep, size * size, size, 1, labels.Count > 0, options);
            var pixels = ReadIdx(parts, keep, "images");
            var kept = labels.Count > 0 ? ReadIdx(labelParts, keep, "labels") : null;
            // The classes are those of every label sent, kept or not; the rest are read through, not held.
            int classCount = kept is null ? 0 : Math.Max(kept.Max(), LargestOfTheRest(labelParts)) + 1;
            var classes = Enumerable.Range(0, classCount).Select(i => i.ToString()).ToArray();
            return Shaped("idx", pixels, (int)keep, 1, size, kept, classes, options);
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }
    }

    private IdxFile Opened(List<IdxFile> files, Stream stream, int rank, string field)
    {
        var file = Invalid(field, () => IdxFile.Open(stream, rank, limits, field));
        files.Add(file);
        return file;
    }

    /// <summary>The first <paramref name="count"/> items of the parts, in order, read into one buffer.</summary>
    private static byte[] ReadIdx(List<IdxFile> parts, long count, string field)
    {
        var bytes = new byte[count * parts[0].ItemBytes];
        long at = 0;
        foreach (var part in parts)
        {
            long take = Math.Min(part.Count * part.ItemBytes, bytes.LongLength - at);
            if (take == 0)
                break;
            Invalid(field, () => part.Read(bytes.AsSpan((int)at, (int)take)));
            at += take;
        }
        return bytes;
    }

    private static byte LargestOfTheRest(List<IdxFile> labels)
    {
        var buffer = new byte[1 << 16];
        byte largest = 0;
        foreach (var part in labels)
            while (part.Remaining > 0)
            {
                int n = (int)Math.Min(buffer.Length, part.Remaining);
                Invalid("labels", () => part.Read(buffer.AsSpan(0, n)));
                foreach (var label in buffer.AsSpan(0, n))
                    largest = Math.Max(largest, label);
            }
        return largest;
    }

    /// <summary>Reading errors of a damaged file as a 400 naming the field.</summary>
    private static T Invalid<T>(string field, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new DatasetImportException($"The IDX {field} file is invalid: {e.Message}", field);
        }
    }

    private static void Invalid(string field, Action read) => Invalid(field, () =>
        {
            read();
            return 0;
        });

    private StoredDataset ImportCifar(IReadOnlyList<Stream> files, string format, ImportOptions options)
    {
        int labelBytes = format == UploadFormats.Cifar100 ? 2 : 1;
        byte[] pixels,
            labels;
        try
        {
            long keep = Math.Min(CifarReader.Records(files, labelBytes), options.MaxItems ?? long.MaxValue);
            int record = CifarReader.PixelBytes + labelBytes;
            CheckBudget(keep, record, CifarReader.Size, CifarReader.Channels, labelled: true, options);
            (pixels, labels) = CifarReader.Read(files, labelBytes, limits, keep);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetImportException($"The CIFAR file is invalid: {e.Message}");
        }
        if (labels.Length == 0)
            throw new DatasetImportException("The CIFAR file holds no records.");
        var classes =
            format == UploadFormats.Cifar10
                ? Cifar10Classes
                : Enumerable.Range(0, labels.Max() + 1).Select(i => i.ToString()).ToArray();
        if (labels.Max() >= classes.Length)
            throw new DatasetImportException($"A CIFAR-10 label is {labels.Max()}; labels go up to 9.");
        return Shaped(format, pixels, labels.Length, CifarReader.Channels, CifarReader.Size, labels, classes, options);
    }

    /// <summary>
    /// What an import of <paramref name="items"/> will read (<paramref name="readPerItem"/> bytes each) and store
    /// (at the requested size and channels), against the limits, before any of it is read.
    /// </summary>
    private void CheckBudget(long items, long readPerItem, int size, int channels, bool labelled, ImportOptions options)
    {
        limits.CheckOutput(items, options.ImageSize ?? size, options.Channels ?? channels, labelled);
        if (items * readPerItem > limits.MaxDecompressedBytes)
            throw new DatasetImportException(
                $"{items} items of {readPerItem} bytes make {items * readPerItem} bytes to read; "
                    + $"the limit is {limits.MaxDecompressedBytes} (set maxItems to import fewer).",
                "maxItems",
                tooLarge: true
            );
    }

    /// <summary>Applies the requested size and channels (bilinear, antialiased) a few images at a time.</summary>
    private static StoredDataset Shaped(
        string format,
        byte[] pixels,
        int count,
        int channels,
        int size,
        byte[]? labels,
        IReadOnlyList<string> classes,
        ImportOptions options
    )
    {
        int targetSize = options.ImageSize ?? size,
            targetChannels = options.Channels ?? channels;
        var shaped = pixels;
        if (targetSize != size || targetChannels != channels)
        {
            shaped = new byte[(long)count * targetChannels * targetSize * targetSize];
            ImageResampler.Resample(pixels, shaped, count, channels, size, targetSize, targetChannels);
        }
        var kind = labels is null ? DatasetKind.Images : DatasetKind.Labelled;
        var header = new DatasetHeader(
            format,
            kind,
            count,
            0,
            targetChannels,
            targetSize,
            labels is null ? [] : classes
        );
        return new StoredDataset(header, shaped, null, labels);
    }
}
