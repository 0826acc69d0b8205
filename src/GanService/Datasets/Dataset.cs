using GanService.Gan.Data;

namespace GanService.Datasets;

/// <summary>A row of <c>gan.datasets</c>: an imported dataset in its stored form, addressed by its SHA-256.</summary>
public sealed class Dataset
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string Format { get; set; }
    public DatasetKind Kind { get; set; }
    public int ImageSize { get; set; }
    public int Channels { get; set; }
    public int ItemCount { get; set; }
    public int ItemCountB { get; set; }
    /// <summary>Class names with their item counts, as jsonb.</summary>
    public required string Classes { get; set; }
    public required string Sha256 { get; set; }
    public long SizeBytes { get; set; }
    public required byte[] Bytes { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Upload limits: the <c>Gan:Datasets</c> configuration section.</summary>
public sealed class DatasetLimits
{
    public const string Section = "Gan:Datasets";
    public long MaxUploadBytes { get; set; } = 512L << 20;
    public int MaxEntries { get; set; } = 100_000;
    public long MaxDecompressedBytes { get; set; } = 1L << 30;
    public long MaxEntryBytes { get; set; } = 64L << 20;
    public double MaxCompressionRatio { get; set; } = 100;
    public int MaxImageSide { get; set; } = 4096;
    public long MaxImagePixels { get; set; } = 16_000_000;
    public int MaxItems { get; set; } = 200_000;

    public Gan.Data.Import.ImportLimits ToImportLimits() => new()
    {
        MaxEntries = MaxEntries, MaxTotalBytes = MaxDecompressedBytes, MaxEntryBytes = MaxEntryBytes,
        MaxCompressionRatio = MaxCompressionRatio, MaxImageSide = MaxImageSide, MaxImagePixels = MaxImagePixels, MaxItems = MaxItems,
    };
}

public static class DatasetExtensions
{
    public static WebApplicationBuilder AddDatasets(this WebApplicationBuilder builder)
    {
        // Kestrel keeps its default body limit everywhere else; the upload endpoint raises it per request.
        builder.Services.AddOptions<DatasetLimits>().BindConfiguration(DatasetLimits.Section);
        builder.Services.AddHttpClient(nameof(BuiltInDownloader), client => client.Timeout = TimeSpan.FromMinutes(30));
        builder.Services.AddSingleton<BuiltInDownloader>();
        return builder;
    }
}
