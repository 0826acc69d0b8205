using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using GanService.Gan.Data;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace GanService.Tests;

/// <summary>
/// A dataset's preview reads only the items it shows from PostgreSQL, and shows what a render of the whole stored
/// dataset would: the same PNG bytes.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatasetPreviewTests(PostgresServer postgres)
{
    private const int Items = 40_000;

    [Fact]
    public async Task A_preview_of_a_large_dataset_reads_only_the_items_it_shows()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        using var client = service.CreateClient();
        // Distinct items, so that a wrong item in a tile changes the PNG, and mostly black like MNIST's, so that
        // PostgreSQL would compress them: 31 MB stored.
        var pixels = new byte[Items * 28 * 28];
        var random = new Random(7);
        for (int i = 0; i < Items; i++)
            random.NextBytes(pixels.AsSpan(i * 28 * 28 + 300, 64));
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(UploadFiles.Idx(pixels, [Items, 28, 28])), "images", "train-images-idx3-ubyte" },
        };
        using var uploaded = await client.PostAsync("/api/datasets", form);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var dataset = (await uploaded.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!;
        using var warm = await client.GetAsync($"/api/datasets/{dataset.Id}/preview.png?count=4");

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var preview = await client.GetByteArrayAsync($"/api/datasets/{dataset.Id}/preview.png?count=256&seed=3");
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(allocated < pixels.Length / 8, $"a preview allocated {allocated >> 20} MB");
        Assert.Equal(DatasetPreview.Render(await StoredAsync(service, dataset.Id), 256, 3), preview);
        // Compressed, each item's substring would inflate the value from its start: seconds of the server's time.
        await using var db = await service
            .Services.GetRequiredService<IDbContextFactory<GanDbContext>>()
            .CreateDbContextAsync();
        Assert.Null(
            await db
                .Database.SqlQuery<string?>(
                    $"""
                    SELECT pg_column_compression("Bytes")::text AS "Value" FROM gan.datasets WHERE "Id" = {dataset.Id}
                    """
                )
                .SingleAsync()
        );
    }

    [Fact]
    public async Task Previews_of_pairs_and_unpaired_domains_show_the_items_a_whole_read_would()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        using var client = service.CreateClient();
        var paired = UploadFiles.PairsZip(9, 16);
        var unpaired = UploadFiles.TarGz(
            Enumerable
                .Range(0, 7)
                .Select(i => ($"horse2zebra/trainA/{i}.png", UploadFiles.Png(20, 20, new((byte)(30 * i), 9, 9))))
                .Concat(
                    Enumerable
                        .Range(0, 5)
                        .Select(i =>
                            ($"horse2zebra/trainB/{i}.png", UploadFiles.Png(20, 20, new(9, (byte)(40 * i), 9)))
                        )
                )
                .ToArray()
        );
        foreach (var (content, name) in new[] { (paired, "pairs.zip"), (unpaired, "domains.tar.gz") })
        {
            var dataset = await DatasetUploadTests.Upload(client, content, name, ("imageSize", "16"));
            var stored = await StoredAsync(service, dataset.Id);
            foreach (var (count, seed) in new[] { (4, 1L), (5, 2L), (256, 3L) })
                Assert.Equal(
                    DatasetPreview.Render(stored, count, seed),
                    await client.GetByteArrayAsync($"/api/datasets/{dataset.Id}/preview.png?count={count}&seed={seed}")
                );
        }
    }

    /// <summary>The dataset as stored, read whole from the service's database.</summary>
    private static async Task<StoredDataset> StoredAsync(GanServiceFactory service, Guid id)
    {
        await using var db = await service
            .Services.GetRequiredService<IDbContextFactory<GanDbContext>>()
            .CreateDbContextAsync();
        return StoredDataset.Deserialize(await db.Datasets.Where(d => d.Id == id).Select(d => d.Bytes).SingleAsync());
    }
}
