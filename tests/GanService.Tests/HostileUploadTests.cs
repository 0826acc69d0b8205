using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using GanService.Jobs;
using Microsoft.AspNetCore.Mvc;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>
/// Hostile and broken uploads: each is a clear 4xx naming the problem, nothing is stored, no temporary file is left
/// behind, and memory stays bounded. Limits are small here so that the bombs stay cheap.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostileUploadTests(PostgresServer postgres) : IAsyncLifetime
{
    private static readonly byte[] Image = UploadFiles.Png(8, 8, new Rgb24(200, 10, 10));
    private GanServiceFactory service = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            role: "api",
            settings: new Dictionary<string, string?>
            {
                ["Gan:Datasets:MaxUploadBytes"] = (2 << 20).ToString(),
                ["Gan:Datasets:MaxEntryBytes"] = (1 << 20).ToString(),
                ["Gan:Datasets:MaxDecompressedBytes"] = (4 << 20).ToString(),
                ["Gan:Datasets:MaxEntries"] = "50",
                ["Gan:Datasets:MaxImageSide"] = "1024",
                ["Gan:Datasets:MaxImagePixels"] = "100000",
                ["Gan:Datasets:MaxItems"] = "40",
                ["Gan:Datasets:MaxStoredBytes"] = "100000",
            }
        );
        client = service.CreateClient();
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await service.DisposeAsync();
    }

    public static TheoryData<string, string, string> BrokenArchives() =>
        new()
        {
            { "traversal", "file", "outside" },
            { "absolute", "file", "outside" },
            { "not-an-image", "file", "notes.png" },
            { "empty-zip", "file", "no files" },
            { "only-nested", "file", "no files" },
            { "truncated-zip", "file", "damaged" },
            { "one-class", "file", "two or more" },
            { "unmatched-pairs", "file", "unmatched" },
            { "garbage", "file", "damaged" },
        };

    [Theory]
    [MemberData(nameof(BrokenArchives))]
    public async Task Broken_archives_are_400s_that_name_the_problem(string kind, string field, string says)
    {
        var content = kind switch
        {
            "traversal" => UploadFiles.Zip(("ok.png", Image), ("../../evil.png", Image)),
            "absolute" => UploadFiles.Zip(("/etc/evil.png", Image)),
            "not-an-image" => UploadFiles.Zip(("a.png", Image), ("notes.png", "hello"u8.ToArray())),
            "empty-zip" => UploadFiles.Zip(),
            "only-nested" => UploadFiles.Zip(("inner.zip", UploadFiles.Zip(("a.png", Image)))),
            "truncated-zip" => UploadFiles.Zip(("a.png", Image), ("b.png", Image))[..60],
            "one-class" => UploadFiles.Zip(("cats/a.png", Image), ("dogs/readme.txt", "x"u8.ToArray())),
            "unmatched-pairs" => UploadFiles.Zip(("A/1.png", Image), ("B/2.png", Image)),
            _ => "definitely not an archive, just text that goes on"u8.ToArray(),
        };
        var fields = kind == "one-class" ? new[] { ("skipInvalid", "true") } : [];
        await AssertRejected(
            UploadFiles.Form("file", content, "upload.zip", fields),
            HttpStatusCode.BadRequest,
            field,
            says
        );
    }

    [Fact]
    public async Task A_mixed_archive_imports_with_skip_invalid_and_reports_what_it_skipped()
    {
        var zip = UploadFiles.Zip(
            ("a.png", Image),
            ("b.png", Image),
            ("broken.png", Image[..40]),
            ("notes.txt", "x"u8.ToArray())
        );
        var response = await client.PostAsync(
            "/api/datasets",
            UploadFiles.Form("file", zip, "mixed.zip", ("skipInvalid", "true"), ("imageSize", "8"))
        );
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var dataset = (await response.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!;
        Assert.Equal(2, dataset.Count);
        Assert.Equal(["broken.png", "notes.txt"], dataset.Skipped);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
    }

    [Fact]
    public async Task Links_in_a_tar_are_never_followed()
    {
        var response = await client.PostAsync(
            "/api/datasets",
            UploadFiles.Form("file", UploadFiles.TarWithLink(Image), "links.tar", ("imageSize", "8"))
        );
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var dataset = (await response.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!;
        Assert.Equal(2, dataset.Count); // the link is ignored, the two real images stay
        await client.DeleteAsync($"/api/datasets/{dataset.Id}");
    }

    [Fact]
    public async Task A_zip_bomb_is_refused_with_413_without_expanding_in_memory()
    {
        var bomb = UploadFiles.Zip(CompressionLevel.SmallestSize, ("bomb.png", new byte[200 << 20]));
        Assert.True(bomb.Length < 1 << 20);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await AssertRejected(
            UploadFiles.Form("file", bomb, "bomb.zip"),
            HttpStatusCode.RequestEntityTooLarge,
            "file",
            "bytes"
        );
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < 64L << 20, $"refusing a 200 MB bomb allocated {allocated >> 20} MB");

        var ratio = UploadFiles.Zip(CompressionLevel.SmallestSize, ("zeros.png", new byte[900_000]));
        await AssertRejected(
            UploadFiles.Form("file", ratio, "ratio.zip"),
            HttpStatusCode.RequestEntityTooLarge,
            "file",
            "fold"
        );
    }

    [Fact]
    public async Task Oversized_images_counts_and_bodies_are_413s()
    {
        var tall = UploadFiles.Zip(("tall.png", UploadFiles.Png(1, 5000, new Rgb24(1, 2, 3))));
        await AssertRejected(
            UploadFiles.Form("file", tall, "tall.zip"),
            HttpStatusCode.RequestEntityTooLarge,
            "file",
            "1x5000"
        );
        var many = UploadFiles.Zip(Enumerable.Range(0, 60).Select(i => ($"{i}.png", Image)).ToArray());
        await AssertRejected(
            UploadFiles.Form("file", many, "many.zip"),
            HttpStatusCode.RequestEntityTooLarge,
            "file",
            "more than 50"
        );
        var items = UploadFiles.Zip(Enumerable.Range(0, 45).Select(i => ($"{i}.png", Image)).ToArray());
        await AssertRejected(
            UploadFiles.Form("file", items, "items.zip", ("imageSize", "8")),
            HttpStatusCode.RequestEntityTooLarge,
            "file",
            "limit is 40"
        );
        var big = new byte[3 << 20];
        Random.Shared.NextBytes(big);
        await AssertRejected(
            UploadFiles.Form("file", big, "big.zip"),
            HttpStatusCode.RequestEntityTooLarge,
            "file",
            "larger than"
        );
    }

    public static TheoryData<string, string, string> BrokenFiles() =>
        new()
        {
            { "idx-magic", "images", "IDX" },
            { "idx-short", "images", "shorter" },
            { "idx-gzip-truncated", "images", "IDX" },
            { "idx-label-count", "labels", "labels for" },
            { "cifar-record", "file", "record" },
            { "bad-option", "imageSize", "whole number" },
            { "bad-format", "format", "Unknown format" },
        };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public async Task Broken_idx_cifar_and_options_are_400s_naming_the_field(string kind, string field, string says)
    {
        var pixels = new byte[4 * 28 * 28];
        var idx = UploadFiles.Idx(pixels, [4, 28, 28], gzip: true);
        MultipartFormDataContent form = kind switch
        {
            "idx-magic" => UploadFiles.Form("images", UploadFiles.Idx(pixels, [4, 28 * 28]), "images.idx"),
            "idx-short" => UploadFiles.Form("images", UploadFiles.Idx(pixels[..100], [4, 28, 28]), "images.idx"),
            "idx-gzip-truncated" => UploadFiles.Form("images", idx[..(idx.Length / 2)], "images.idx.gz"),
            "idx-label-count" => new MultipartFormDataContent
            {
                { new ByteArrayContent(idx), "images", "images.gz" },
                { new ByteArrayContent(UploadFiles.Idx([1, 2], [2])), "labels", "labels" },
            },
            "cifar-record" => UploadFiles.Form(
                "file",
                UploadFiles.Cifar((1, 2, 3, 4))[..3000],
                "data_batch_1.bin",
                ("format", "cifar10")
            ),
            "bad-option" => UploadFiles.Form("file", UploadFiles.Zip(("a.png", Image)), "a.zip", ("imageSize", "huge")),
            _ => UploadFiles.Form("file", UploadFiles.Zip(("a.png", Image)), "a.zip", ("format", "rar")),
        };
        await AssertRejected(form, HttpStatusCode.BadRequest, field, says);
    }

    [Fact]
    public async Task What_an_upload_would_store_and_how_it_inflates_are_budgeted_before_the_work()
    {
        var tenImages = UploadFiles.Zip(Enumerable.Range(0, 10).Select(i => ($"{i}.png", Image)).ToArray());
        // 10 x 64 x 64 x 3 is 122,880 bytes to store; the limit here is 100,000.
        await AssertRejected(
            UploadFiles.Form("file", tenImages, "ten.zip", ("imageSize", "64")),
            HttpStatusCode.RequestEntityTooLarge,
            "imageSize",
            "limit is 100000"
        );
        var tarBomb = UploadFiles.TarGz(("zeros.png", new byte[900_000]));
        await AssertRejected(
            UploadFiles.Form("file", tarBomb, "zeros.tar.gz"),
            HttpStatusCode.RequestEntityTooLarge,
            "file",
            "fold"
        );
        var part = UploadFiles.Idx(new byte[2 * 28 * 28], [2, 28, 28]);
        var parts = new MultipartFormDataContent();
        for (int i = 0; i < 9; i++)
            parts.Add(new ByteArrayContent(part), "images", $"part{i}.idx");
        await AssertRejected(parts, HttpStatusCode.RequestEntityTooLarge, "images", "limit is 8");
    }

    [Fact]
    public async Task Text_fields_are_read_with_a_bound_and_count_toward_the_upload()
    {
        var zip = UploadFiles.Zip(("a.png", Image));
        var padding = Enumerable.Range(0, 20).Select(i => ($"note{i}", new string('x', 1000))).ToArray();
        var junk = new byte[(2 << 20) - 10_000]; // under the 2 MiB limit alone, over it with 20 KB of text
        await AssertRejected(
            UploadFiles.Form("file", junk, "junk.zip", padding),
            HttpStatusCode.RequestEntityTooLarge,
            "file",
            "larger than"
        );
        var many = Enumerable.Range(0, 40).Select(i => ($"field{i}", "1")).ToArray();
        await AssertRejected(
            UploadFiles.Form("file", zip, "a.zip", many),
            HttpStatusCode.BadRequest,
            "field32",
            "more than 32"
        );
        var longName = UploadFiles.Form("file", zip, "a.zip", ("name", new string('n', 1_500_000)));
        await longName.LoadIntoBufferAsync();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var response = await client.PostAsync("/api/datasets", longName);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("too long", await response.Content.ReadAsStringAsync());
        Assert.True(allocated < 3_000_000, $"refusing a 1.5 MB field allocated {allocated >> 10} KB");
    }

    [Fact]
    public async Task A_multipart_body_cut_off_mid_file_is_a_400()
    {
        const string boundary = "cut-here";
        var body = System
            .Text.Encoding.ASCII.GetBytes(
                $"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.zip\"\r\n\r\n"
            )
            .Concat(UploadFiles.Zip(("a.png", Image))[..50])
            .ToArray(); // no closing boundary: the upload stopped
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(
            $"multipart/form-data; boundary={boundary}"
        );
        var temporary = TemporaryUploads();
        var response = await client.PostAsync("/api/datasets", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("cut short", await response.Content.ReadAsStringAsync());
        Assert.Equal(temporary, TemporaryUploads());
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_is_a_415_problem()
    {
        var response = await client.PostAsJsonAsync("/api/datasets", new { file = "x" });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task A_dataset_in_use_by_a_queued_job_cannot_be_deleted()
    {
        var dataset = await DatasetUploadTests.Upload(
            client,
            UploadFiles.Zip(Enumerable.Range(0, 10).Select(i => ($"{i}.png", Image)).ToArray()),
            "x.zip",
            ("imageSize", "8")
        );
        var job = await service.SubmitAsync(
            client,
            new
            {
                dataset = dataset.Id.ToString(),
                model = new { family = "dcgan" },
                training = new { batchSize = 4 },
            }
        );
        Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
        await client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
    }

    private async Task AssertRejected(MultipartFormDataContent form, HttpStatusCode status, string field, string says)
    {
        var temporary = TemporaryUploads();
        var response = await client.PostAsync("/api/datasets", form);
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
            await client.GetFromJsonAsync<PagedList<DatasetResponse>>("/api/datasets", GanServiceFactory.Json)
        )!;
        Assert.Equal(0, stored.Total);
        Assert.Equal(temporary, TemporaryUploads());
    }

    private static int TemporaryUploads() =>
        Directory.EnumerateFiles(Path.GetTempPath(), "ganservice-upload-*").Count();
}
