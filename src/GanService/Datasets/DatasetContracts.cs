using System.Text.Json;
using GanService.Gan.Data;

namespace GanService.Datasets;

public sealed record ClassCount(string Name, int Count);

public sealed record DatasetResponse(
    Guid Id,
    string Name,
    string Format,
    DatasetKind Kind,
    int ImageSize,
    int Channels,
    int Count,
    int CountB,
    IReadOnlyList<ClassCount> Classes,
    string Sha256,
    long SizeBytes,
    DateTimeOffset CreatedAt,
    IReadOnlyList<string> Skipped,
    DatasetLinks Links
);

public sealed record DatasetLinks(string Self, string Preview);

/// <summary>The multipart form of <c>POST /api/datasets</c>, for the API description; the handler streams it.</summary>
/// <param name="File">The archive (zip, tar, tar.gz) or CIFAR batch file.</param>
/// <param name="Images">IDX images file (raw or gzip), with format=idx.</param>
/// <param name="Labels">IDX labels file, optional, with format=idx.</param>
/// <param name="Name">A name for the dataset (default: the file name).</param>
/// <param name="Format">archive, idx, cifar10 or cifar100 (default: idx when images is sent, else archive).</param>
/// <param name="ImageSize">Target side in pixels, 8 to 256 (default: native for IDX/CIFAR, 64 for archives).</param>
/// <param name="Channels">1 or 3 (default: native; RGB for archives).</param>
/// <param name="Fit">crop (cover, centre-crop; default) or pad.</param>
/// <param name="MaxItems">Import at most this many items.</param>
/// <param name="SkipInvalid">Skip undecodable entries instead of failing; they are listed in the answer.</param>
/// <param name="Layout">auto (folders decide; default) or sidebyside (each image is an A|B pair).</param>
public sealed record DatasetUploadForm(
    IFormFile? File,
    IFormFile? Images,
    IFormFile? Labels,
    string? Name,
    string? Format,
    int? ImageSize,
    int? Channels,
    string? Fit,
    int? MaxItems,
    bool? SkipInvalid,
    string? Layout
);

public static class DatasetMapping
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static int ClassCount(Dataset d) =>
        d.Kind == DatasetKind.Labelled
            ? (JsonSerializer.Deserialize<List<ClassCount>>(d.Classes, Json)?.Count ?? 0)
            : 0;

    public static string SerializeClasses(IReadOnlyList<ClassCount> classes) => JsonSerializer.Serialize(classes, Json);

    public static DatasetResponse ToResponse(this Dataset d, IReadOnlyList<string>? skipped = null) =>
        new(
            d.Id,
            d.Name,
            d.Format,
            d.Kind,
            d.ImageSize,
            d.Channels,
            d.ItemCount,
            d.ItemCountB,
            JsonSerializer.Deserialize<List<ClassCount>>(d.Classes, Json) ?? [],
            d.Sha256,
            d.SizeBytes,
            d.CreatedAt,
            skipped ?? [],
            new DatasetLinks($"/api/datasets/{d.Id}", $"/api/datasets/{d.Id}/preview.png")
        );
}
