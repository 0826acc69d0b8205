namespace GanService.Gan.Data.Import;

/// <summary>
/// How an image is fitted to the target square: scaled to cover it and centre-cropped, or to fit and padded.
/// </summary>
public enum FitMode
{
    Crop,
    Pad,
}

/// <summary>What the caller asks of an import.</summary>
/// <param name="ImageSize">Target side in pixels; null keeps IDX/CIFAR's native size and means 64 for archives.</param>
/// <param name="Channels">1 (grey) or 3 (RGB); null keeps the format's native channels (RGB for archives).</param>
/// <param name="Fit">Crop (cover, then centre-crop) or Pad (fit, then pad with black).</param>
/// <param name="MaxItems">Stop after this many items (in name order).</param>
/// <param name="SkipInvalid">Skip entries that are not decodable PNG/JPEG images instead of failing, reporting
/// them.</param>
/// <param name="Layout">For archives: <c>auto</c> (folders decide), <c>sidebyside</c> (each image is A|B).</param>
public sealed record ImportOptions(
    int? ImageSize = null,
    int? Channels = null,
    FitMode Fit = FitMode.Crop,
    int? MaxItems = null,
    bool SkipInvalid = false,
    string Layout = ImportOptions.AutoLayout
)
{
    public const string AutoLayout = "auto",
        SideBySide = "sidebyside";
    public const int MinSize = 8,
        MaxSize = 256,
        DefaultArchiveSize = 64;
}

/// <summary>Limits that hold against hostile files; every one of them is counted on what is actually read.</summary>
public sealed record ImportLimits
{
    public int MaxEntries { get; init; } = 100_000;
    public long MaxDecompressedBytes { get; init; } = 1L << 30;
    public long MaxEntryBytes { get; init; } = 64L << 20;
    public double MaxCompressionRatio { get; init; } = 100;
    public int MaxImageSide { get; init; } = 4096;
    public long MaxImagePixels { get; init; } = 16_000_000;
    public int MaxItems { get; init; } = 200_000;

    /// <summary>Files sent as one dataset: IDX images or labels parts, CIFAR batches (CIFAR-10 ships six).</summary>
    public int MaxParts { get; init; } = 8;

    /// <summary>
    /// The stored dataset's pixels and labels: PostgreSQL keeps a value of at most 1 GiB, so more could be imported
    /// but never stored (docs/reliability.md, "Budgets").
    /// </summary>
    public long MaxStoredBytes { get; init; } = 1_000_000_000;

    /// <summary>
    /// Refuses, before any pixel is decoded or resized, a dataset whose items or stored bytes (items x side^2 x
    /// channels, plus one label byte each) would pass the limits. <paramref name="exact"/> false: a running count.
    /// </summary>
    public void CheckOutput(long items, int size, int channels, bool labelled, bool exact = true)
    {
        string has = exact ? "has" : "has more than";
        if (items > MaxItems)
            throw new DatasetImportException(
                $"The dataset {has} {(exact ? items : MaxItems)} items; "
                    + $"the limit is {MaxItems} (set maxItems to import fewer).",
                tooLarge: true
            );
        long bytes = items * ((long)size * size * channels + (labelled ? 1 : 0));
        if (bytes > MaxStoredBytes)
            throw new DatasetImportException(
                $"{items} items at {size}x{size}x{channels} make {bytes} bytes; the limit is {MaxStoredBytes} "
                    + "(lower imageSize or set maxItems).",
                "imageSize",
                tooLarge: true
            );
    }
}

/// <summary>An upload that cannot be imported; the message names the entry or field at fault.</summary>
public sealed class DatasetImportException(string message, string field = "file", bool tooLarge = false)
    : Exception(message)
{
    /// <summary>The form field the problem belongs to.</summary>
    public string Field { get; } = field;

    /// <summary>A size limit, rather than bad content, stopped the import (HTTP 413).</summary>
    public bool TooLarge { get; } = tooLarge;
}
