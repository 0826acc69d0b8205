namespace GanService.Gan.Data.Import;

/// <summary>
/// Imports an archive of PNG/JPEG images. The folder layout decides the kind: <c>A/</c> and <c>B/</c> with
/// matching names are paired (pix2pix), <c>trainA/</c> and <c>trainB/</c> are unpaired domains (CycleGAN),
/// one level of class folders is labelled, anything else is plain images. <c>layout=sidebyside</c> splits each
/// image into its A|B halves. A single folder wrapping everything (as zipping a folder makes) is looked through.
/// </summary>
internal sealed class ArchiveImporter(ImportLimits limits, ImageDecoder decoder)
{
    private readonly List<string> skipped = [];
    private ArchiveContents contents = null!;
    private long decoded;

    public ImportResult Import(Stream upload, ImportOptions options)
    {
        using var opened = ArchiveReader.Open(upload, limits);
        contents = opened;
        var entries = StripCommonRoot(opened.Entries);
        int size = options.ImageSize ?? ImportOptions.DefaultArchiveSize,
            channels = options.Channels ?? 3;
        var folders = entries.Select(e => e.Name.Contains('/') ? e.Name[..e.Name.IndexOf('/')] : "").ToHashSet();
        StoredDataset dataset;
        if (options.Layout == ImportOptions.SideBySide)
            dataset = SideBySide(entries, size, channels, options);
        else if (folders.SetEquals(["A", "B"]))
            dataset = Paired(entries, size, channels, options);
        else if (folders.Contains("trainA") && folders.Contains("trainB"))
            dataset = Unpaired(
                entries.Where(e => e.Name.StartsWith("trainA/") || e.Name.StartsWith("trainB/")).ToList(),
                size,
                channels,
                options
            );
        else if (!folders.Contains("") && entries.All(e => e.Name.Count(c => c == '/') == 1))
            dataset = Labelled(entries, folders.Order(StringComparer.Ordinal).ToList(), size, channels, options);
        else
            dataset = Plain(entries, size, channels, options);
        return new ImportResult(dataset, skipped);
    }

    private StoredDataset Plain(List<ArchiveEntry> entries, int size, int channels, ImportOptions options)
    {
        Expect(Math.Min(entries.Count, options.MaxItems ?? int.MaxValue), size, channels, labelled: false, options);
        var pixels = DecodeAll(entries, size, channels, options).Pixels;
        return Build(DatasetKind.Images, pixels, null, null, [], size, channels);
    }

    private StoredDataset Labelled(
        List<ArchiveEntry> entries,
        List<string> classes,
        int size,
        int channels,
        ImportOptions options
    )
    {
        if (classes.Count > 256)
            throw new DatasetImportException(
                $"The archive has {classes.Count} class folders; at most 256 are supported."
            );
        Expect(Math.Min(entries.Count, options.MaxItems ?? int.MaxValue), size, channels, labelled: true, options);
        var (names, pixels) = DecodeAll(entries, size, channels, options);
        var labels = names.Select(n => (byte)classes.IndexOf(n[..n.IndexOf('/')])).ToArray();
        var present = classes.Where((_, index) => labels.Contains((byte)index)).Count();
        if (present < 2)
            throw new DatasetImportException(
                "Class folders were found but only one class has images; a labelled dataset needs two or more."
            );
        return Build(DatasetKind.Labelled, pixels, null, labels, classes, size, channels);
    }

    private StoredDataset Paired(List<ArchiveEntry> entries, int size, int channels, ImportOptions options)
    {
        var a = entries.Where(e => e.Name.StartsWith("A/")).ToDictionary(e => e.Name[2..]);
        var b = entries.Where(e => e.Name.StartsWith("B/")).ToDictionary(e => e.Name[2..]);
        var unmatched = a.Keys.Except(b.Keys).Concat(b.Keys.Except(a.Keys)).Order(StringComparer.Ordinal).ToList();
        if (unmatched.Count > 0)
            throw new DatasetImportException(
                $"Paired folders A/ and B/ must hold the same names; unmatched: {string.Join(", ", unmatched.Take(5))}."
            );
        var names = a.Keys.Order(StringComparer.Ordinal).Take(options.MaxItems ?? int.MaxValue).ToList();
        Expect(2L * names.Count, size, channels, labelled: false, options);
        var imagesA = new List<byte[]>();
        var imagesB = new List<byte[]>();
        foreach (var name in names)
        {
            var left = TryDecode(a[name], size, channels, options);
            var right = TryDecode(b[name], size, channels, options);
            if (left is null || right is null)
                continue;
            imagesA.Add(left);
            imagesB.Add(right);
        }
        return Build(DatasetKind.Paired, imagesA, imagesB, null, [], size, channels);
    }

    private StoredDataset SideBySide(List<ArchiveEntry> entries, int size, int channels, ImportOptions options)
    {
        var imagesA = new List<byte[]>();
        var imagesB = new List<byte[]>();
        var pairs = entries.Take(options.MaxItems ?? int.MaxValue).ToList();
        Expect(2L * pairs.Count, size, channels, labelled: false, options);
        foreach (var entry in pairs)
        {
            var content = contents.Read(entry);
            try
            {
                var (a, b) = decoder.DecodePair(content, entry.Name, size, channels, options.Fit);
                imagesA.Add(a);
                imagesB.Add(b);
                Counted(2, size, channels, labelled: false, options);
            }
            catch (DatasetImportException) when (options.SkipInvalid)
            {
                skipped.Add(entry.Name);
            }
        }
        return Build(DatasetKind.Paired, imagesA, imagesB, null, [], size, channels);
    }

    private StoredDataset Unpaired(List<ArchiveEntry> entries, int size, int channels, ImportOptions options)
    {
        var entriesA = entries.Where(e => e.Name.StartsWith("trainA/")).ToList();
        var entriesB = entries.Where(e => e.Name.StartsWith("trainB/")).ToList();
        int most = options.MaxItems ?? int.MaxValue;
        long items = (long)Math.Min(entriesA.Count, most) + Math.Min(entriesB.Count, most);
        Expect(items, size, channels, labelled: false, options);
        var a = DecodeAll(entriesA, size, channels, options).Pixels;
        var b = DecodeAll(entriesB, size, channels, options).Pixels;
        if (a.Count == 0 || b.Count == 0)
            throw new DatasetImportException("Unpaired data needs images in both trainA/ and trainB/.");
        return Build(DatasetKind.Unpaired, a, b, null, [], size, channels);
    }

    /// <summary>The decoded images and their entries' names, apart, so that the pixels are held by one list.</summary>
    private (List<string> Names, List<byte[]> Pixels) DecodeAll(
        List<ArchiveEntry> entries,
        int size,
        int channels,
        ImportOptions options
    )
    {
        var names = new List<string>();
        var images = new List<byte[]>();
        foreach (var entry in entries)
        {
            if (images.Count >= (options.MaxItems ?? int.MaxValue))
                break;
            if (TryDecode(entry, size, channels, options) is not { } pixels)
                continue;
            names.Add(entry.Name);
            images.Add(pixels);
        }
        return (names, images);
    }

    private byte[]? TryDecode(ArchiveEntry entry, int size, int channels, ImportOptions options)
    {
        var content = contents.Read(entry); // a damaged or oversized entry fails the import, even with skipInvalid
        try
        {
            var pixels = decoder.Decode(content, entry.Name, size, channels, options.Fit);
            Counted(1, size, channels, labelled: false, options);
            return pixels;
        }
        catch (DatasetImportException e) when (options.SkipInvalid && !e.TooLarge)
        {
            skipped.Add(entry.Name);
            return null;
        }
    }

    /// <summary>
    /// The budget of what decoding will produce, before any entry is decoded. With skipInvalid the count is not known
    /// yet (entries may be skipped), so <see cref="Counted"/> checks it as images are decoded instead.
    /// </summary>
    private void Expect(long items, int size, int channels, bool labelled, ImportOptions options)
    {
        if (!options.SkipInvalid)
            limits.CheckOutput(items, size, channels, labelled);
    }

    private void Counted(int items, int size, int channels, bool labelled, ImportOptions options)
    {
        decoded += items;
        if (options.SkipInvalid)
            limits.CheckOutput(decoded, size, channels, labelled, exact: false);
    }

    private StoredDataset Build(
        DatasetKind kind,
        List<byte[]> a,
        List<byte[]>? b,
        byte[]? labels,
        IReadOnlyList<string> classes,
        int size,
        int channels
    )
    {
        if (a.Count == 0)
            throw new DatasetImportException("The archive holds no usable images.");
        limits.CheckOutput(a.Count + (b?.Count ?? 0), size, channels, labels is not null);
        var header = new DatasetHeader(UploadFormats.Archive, kind, a.Count, b?.Count ?? 0, channels, size, classes);
        return new StoredDataset(header, Flattened(a), b is null ? null : Flattened(b), labels);
    }

    /// <summary>The images end to end, each let go once copied, so that they are held once, not twice.</summary>
    private static byte[] Flattened(List<byte[]> images)
    {
        var all = new byte[images.Sum(i => (long)i.Length)];
        long at = 0;
        for (int i = 0; i < images.Count; i++)
        {
            images[i].CopyTo(all.AsSpan((int)at));
            at += images[i].Length;
            images[i] = null!;
        }
        return all;
    }

    private static List<ArchiveEntry> StripCommonRoot(List<ArchiveEntry> entries)
    {
        while (entries.All(e => e.Name.Contains('/')))
        {
            var root = entries[0].Name[..(entries[0].Name.IndexOf('/') + 1)];
            if (!entries.All(e => e.Name.StartsWith(root)) || root is "A/" or "B/" or "trainA/" or "trainB/")
                break;
            entries = entries.Select(e => e with { Name = e.Name[root.Length..] }).ToList();
        }
        return entries;
    }
}
