using GanService.Gan.Data;

namespace GanService.Datasets;

/// <summary>A row of <c>gan.datasets</c>: an imported dataset in its stored form, addressed by its SHA-256.</summary>
public sealed class Dataset
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public string? Owner { get; set; }
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

/// <summary>
/// The <c>Gan:Datasets</c> configuration section: the body limit here, and the import limits
/// (<see cref="Gan.Data.Import.ImportLimits"/>) bound from the same keys.
/// </summary>
public sealed class DatasetLimits
{
    public const string Section = "Gan:Datasets";
    public long MaxUploadBytes { get; set; } = 512L << 20;

    /// <summary>
    /// The largest resized copy of a dataset a job keeps for training; beyond it the dataset stays at its stored size
    /// and each batch is resized as it is drawn (docs/reliability.md, "Budgets").
    /// </summary>
    public long MaxShapedBytes { get; set; } = Gan.Data.ImageDataset.DefaultMaxShapedBytes;
}

public static class DatasetExtensions
{
    public static WebApplicationBuilder AddDatasets(this WebApplicationBuilder builder)
    {
        // Kestrel keeps its default body limit everywhere else; the upload endpoint raises it per request.
        builder.Services.AddOptions<DatasetLimits>().BindConfiguration(DatasetLimits.Section);
        builder.Services.AddOptions<Gan.Data.Import.ImportLimits>().BindConfiguration(DatasetLimits.Section);
        builder.Services.AddHttpClient(nameof(BuiltInDownloader), client => client.Timeout = TimeSpan.FromMinutes(30));
        builder.Services.AddSingleton<BuiltInDownloader>();
        return builder;
    }
}
