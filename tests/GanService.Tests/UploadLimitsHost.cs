using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>
/// An API-only host whose upload limits are small enough that the bombs stay cheap, and what every refused upload
/// must show: a 4xx problem naming the field and the problem, nothing stored, no temporary file left behind.
/// </summary>
public abstract class UploadLimitsHost(PostgresServer postgres) : ApiOnlyHost(postgres, Limits)
{
    protected static readonly byte[] Image = UploadFiles.Png(8, 8, new Rgb24(200, 10, 10));

    private static readonly Dictionary<string, string?> Limits = new()
    {
        ["Gan:Datasets:MaxUploadBytes"] = (2 << 20).ToString(),
        ["Gan:Datasets:MaxEntryBytes"] = (1 << 20).ToString(),
        ["Gan:Datasets:MaxDecompressedBytes"] = (4 << 20).ToString(),
        ["Gan:Datasets:MaxEntries"] = "50",
        ["Gan:Datasets:MaxImageSide"] = "1024",
        ["Gan:Datasets:MaxImagePixels"] = "100000",
        ["Gan:Datasets:MaxItems"] = "40",
        ["Gan:Datasets:MaxStoredBytes"] = "100000",
    };

    protected async Task AssertRejected(MultipartFormDataContent form, HttpStatusCode status, string field, string says)
    {
        var temporary = TemporaryUploads();
        var response = await Client.PostAsync("/api/datasets", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = System.Text.Json.JsonSerializer.Deserialize<ValidationProblemDetails>(
            body,
            GanServiceFactory.Json
        )!;
        Assert.True(
            problem.Errors.TryGetValue(field, out var messages),
            $"errors name {string.Join(", ", problem.Errors.Keys)}, not {field}: {body}"
        );
        Assert.Contains(says, string.Join(" ", messages!), StringComparison.OrdinalIgnoreCase);
        var stored = (
            await Client.GetFromJsonAsync<PagedList<DatasetResponse>>("/api/datasets", GanServiceFactory.Json)
        )!;
        Assert.Equal(0, stored.Total);
        Assert.Equal(temporary, TemporaryUploads());
    }

    protected static int TemporaryUploads() =>
        Directory.EnumerateFiles(Path.GetTempPath(), "ganservice-upload-*").Count();
}
