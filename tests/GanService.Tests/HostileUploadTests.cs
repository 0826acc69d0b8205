using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>
/// Hostile and broken files: archives that escape or nest or break off, zip and tar bombs, oversized images and
/// counts, broken IDX and CIFAR files and options. Each is a clear 4xx naming the problem, and memory stays bounded.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostileUploadTests(PostgresServer postgres) : UploadLimitsHost(postgres)
{
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
        var response = await Client.PostAsync(
            "/api/datasets",
            UploadFiles.Form("file", zip, "mixed.zip", ("skipInvalid", "true"), ("imageSize", "8"))
        );
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var dataset = (await response.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!;
        Assert.Equal(2, dataset.Count);
        Assert.Equal(["broken.png", "notes.txt"], dataset.Skipped);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
    }

    [Fact]
    public async Task Links_in_a_tar_are_never_followed()
    {
        var response = await Client.PostAsync(
            "/api/datasets",
            UploadFiles.Form("file", UploadFiles.TarWithLink(Image), "links.tar", ("imageSize", "8"))
        );
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var dataset = (await response.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!;
        Assert.Equal(2, dataset.Count); // the link is ignored, the two real images stay
        await Client.DeleteAsync($"/api/datasets/{dataset.Id}");
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
}
