using System.Net;
using System.Net.Http.Json;
using GanService.Datasets;
using GanService.Gan.Data;
using GanService.Jobs;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>
/// Datasets as users bring them: archives with class folders, pairs, unpaired domains, IDX and CIFAR.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatasetUploadTests(PostgresServer postgres)
{
    private static readonly Rgb24 Red = new(255, 0, 0),
        Blue = new(0, 0, 255),
        Grey = new(128, 128, 128);

    [Fact]
    public async Task A_zip_of_class_folders_becomes_a_labelled_dataset_once_and_trains_a_job()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        using var client = service.CreateClient();
        var entries = Enumerable
            .Range(0, 20)
            .Select(i => ($"cats/{i:D2}.png", UploadFiles.Png(40, 30, Red)))
            .Concat(Enumerable.Range(0, 12).Select(i => ($"dogs/{i:D2}.jpg", UploadFiles.Jpeg(30, 40, Blue))))
            .ToArray();
        var zip = UploadFiles.Zip(entries);

        var response = await client.PostAsync(
            "/api/datasets",
            UploadFiles.Form("file", zip, "pets.zip", ("imageSize", "28"), ("channels", "3"))
        );
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var dataset = (await response.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!;
        Assert.Equal(
            (DatasetKind.Labelled, 32, 28, 3),
            (dataset.Kind, dataset.Count, dataset.ImageSize, dataset.Channels)
        );
        Assert.Equal([new ClassCount("cats", 20), new ClassCount("dogs", 12)], dataset.Classes);
        Assert.Equal("pets.zip", dataset.Name);
        Assert.Matches("^[0-9a-f]{64}$", dataset.Sha256);

        // The same content with the same options is the same dataset.
        var again = await client.PostAsync(
            "/api/datasets",
            UploadFiles.Form("file", zip, "again.zip", ("imageSize", "28"), ("channels", "3"))
        );
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(dataset.Id, (await again.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!.Id);

        using (
            var preview = TestData.DecodePng(
                await client.GetByteArrayAsync($"/api/datasets/{dataset.Id}/preview.png?count=16&seed=1")
            )
        )
        {
            Assert.Equal((4 * 28 + 10, 4 * 28 + 10), (preview.Width, preview.Height));
            var tile = preview[2 + 14, 2 + 14];
            Assert.True(
                tile.R > 200 && tile.B < 60 || tile.B > 200 && tile.R < 60,
                $"a real item is red or blue, not {tile}"
            );
        }

        var job = await service.SubmitAsync(
            client,
            new
            {
                dataset = dataset.Id.ToString(),
                model = new
                {
                    family = "dcgan",
                    imageSize = 28,
                    channels = 3,
                },
                training = new { steps = 4, batchSize = 8 },
                checkpointEvery = 4,
                seed = 2,
            }
        );
        Assert.Equal(dataset.Sha256, job.DatasetSha256);
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
        var listed = (
            await client.GetFromJsonAsync<PagedList<DatasetResponse>>("/api/datasets", GanServiceFactory.Json)
        )!;
        Assert.Equal(1, listed.Total);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/datasets/{dataset.Id}")).StatusCode);
    }

    [Fact]
    public async Task Paired_and_unpaired_archives_import_with_previews_that_show_them()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        using var client = service.CreateClient();

        var paired = UploadFiles.Zip(
            Enumerable
                .Range(0, 6)
                .SelectMany(i =>
                    new[]
                    {
                        ($"facades/A/{i}.png", UploadFiles.Png(16, 16, Red)),
                        ($"facades/B/{i}.png", UploadFiles.Png(16, 16, Blue)),
                    }
                )
                .ToArray()
        );
        var a = await Upload(client, paired, "pairs.zip", ("imageSize", "16"));
        Assert.Equal((DatasetKind.Paired, 6, 6), (a.Kind, a.Count, a.CountB));
        using (
            var grid = TestData.DecodePng(await client.GetByteArrayAsync($"/api/datasets/{a.Id}/preview.png?count=4"))
        )
        {
            Assert.Equal(Red, grid[2 + 8, 2 + 8]); // A
            Assert.Equal(Blue, grid[2 + 18 + 8, 2 + 8]); // next to it, its B
        }

        var sideBySide = UploadFiles.Zip(Enumerable.Range(0, 4).Select(i => ($"{i}.png", SideBySidePng())).ToArray());
        var s = await Upload(client, sideBySide, "maps.zip", ("imageSize", "16"), ("layout", "sidebyside"));
        Assert.Equal((DatasetKind.Paired, 4), (s.Kind, s.Count));
        using (
            var grid = TestData.DecodePng(await client.GetByteArrayAsync($"/api/datasets/{s.Id}/preview.png?count=2"))
        )
            Assert.Equal((Red, Blue), (grid[2 + 8, 2 + 8], grid[2 + 18 + 8, 2 + 8]));

        var unpaired = UploadFiles.TarGz(
            Enumerable
                .Range(0, 5)
                .Select(i => ($"horse2zebra/trainA/{i}.png", UploadFiles.Png(20, 20, Red)))
                .Concat(
                    Enumerable.Range(0, 3).Select(i => ($"horse2zebra/trainB/{i}.png", UploadFiles.Png(20, 20, Blue)))
                )
                .ToArray()
        );
        var u = await Upload(client, unpaired, "horse2zebra.tar.gz", ("imageSize", "16"));
        Assert.Equal((DatasetKind.Unpaired, 5, 3), (u.Kind, u.Count, u.CountB));

        var job = await client.PostAsJsonAsync(
            "/api/jobs",
            new { dataset = a.Id.ToString(), model = new { family = "dcgan" } }
        );
        Assert.Equal(HttpStatusCode.BadRequest, job.StatusCode); // a DCGAN needs plain or labelled images
    }

    [Fact]
    public async Task Idx_pairs_and_cifar_batches_import_with_labels()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        using var client = service.CreateClient();
        var pixels = Enumerable.Range(0, 10 * 28 * 28).Select(i => (byte)(i % 251)).ToArray();
        using var form = new MultipartFormDataContent
        {
            {
                new ByteArrayContent(UploadFiles.Idx(pixels, [10, 28, 28], gzip: true)),
                "images",
                "train-images-idx3-ubyte.gz"
            },
            {
                new ByteArrayContent(UploadFiles.Idx([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10])),
                "labels",
                "train-labels-idx1-ubyte"
            },
        };
        var idx = await client.PostAsync("/api/datasets", form);
        Assert.Equal(HttpStatusCode.Created, idx.StatusCode);
        var d = (await idx.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!;
        Assert.Equal(
            ("idx", DatasetKind.Labelled, 10, 28, 1, 10),
            (d.Format, d.Kind, d.Count, d.ImageSize, d.Channels, d.Classes.Count)
        );

        var cifar = UploadFiles.Cifar((3, 255, 0, 0), (5, 0, 0, 255), (3, 0, 255, 0));
        var c = await Upload(client, cifar, "data_batch_1.bin", ("format", "cifar10"));
        Assert.Equal(("cifar10", 3, 32, 3), (c.Format, c.Count, c.ImageSize, c.Channels));
        Assert.Equal(2, c.Classes.Single(k => k.Name == "cat").Count);
    }

    [SharedDataFact("mnist")]
    public async Task Real_mnist_four_idx_files_upload_through_the_api_and_train()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        using var client = service.CreateClient();
        var folder = Path.Combine(SharedData.Root()!, "mnist");
        // All four files: the training and test pairs, matched in the order sent.
        using var form = new MultipartFormDataContent { { new StringContent("mnist-upload"), "name" } };
        foreach (var set in new[] { "train", "t10k" })
        {
            form.Add(
                new StreamContent(File.OpenRead(Path.Combine(folder, $"{set}-images-idx3-ubyte.gz"))),
                "images",
                $"{set}-images-idx3-ubyte.gz"
            );
            form.Add(
                new StreamContent(File.OpenRead(Path.Combine(folder, $"{set}-labels-idx1-ubyte.gz"))),
                "labels",
                $"{set}-labels-idx1-ubyte.gz"
            );
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var response = await client.PostAsync("/api/datasets", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"import took {clock.Elapsed}");
        var d = (await response.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!;
        Assert.Equal((70000, 10), (d.Count, d.Classes.Count));
        Assert.Equal(5923 + 980, d.Classes[0].Count); // zeros in MNIST's training and test sets
        var job = await service.SubmitAsync(
            client,
            new
            {
                dataset = d.Id.ToString(),
                model = new { family = "dcgan" },
                training = new { steps = 5, batchSize = 16 },
                checkpointEvery = 5,
            }
        );
        await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
    }

    private static byte[] SideBySidePng()
    {
        using var image = new SixLabors.ImageSharp.Image<Rgb24>(32, 16, Red);
        for (int y = 0; y < 16; y++)
        for (int x = 16; x < 32; x++)
            image[x, y] = Blue;
        using var output = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, output);
        return output.ToArray();
    }

    internal static async Task<DatasetResponse> Upload(
        HttpClient client,
        byte[] content,
        string fileName,
        params (string, string)[] fields
    )
    {
        var response = await client.PostAsync("/api/datasets", UploadFiles.Form("file", content, fileName, fields));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<DatasetResponse>(GanServiceFactory.Json))!;
    }
}
