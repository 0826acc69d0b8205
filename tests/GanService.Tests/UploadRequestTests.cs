using System.Net;
using System.Net.Http.Json;

namespace GanService.Tests;

/// <summary>
/// Upload requests within budget: what an upload would store and how it inflates are checked before the work, text
/// fields are read with a bound, a body cut off or not multipart is a 4xx, and a dataset in use stays.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class UploadRequestTests(PostgresServer postgres) : UploadLimitsHost(postgres)
{
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
        var response = await Client.PostAsync("/api/datasets", longName);
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
        var response = await Client.PostAsync("/api/datasets", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("cut short", await response.Content.ReadAsStringAsync());
        Assert.Equal(temporary, TemporaryUploads());
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_is_a_415_problem()
    {
        var response = await Client.PostAsJsonAsync("/api/datasets", new { file = "x" });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task A_dataset_in_use_by_a_queued_job_cannot_be_deleted()
    {
        var dataset = await DatasetUploadTests.Upload(
            Client,
            UploadFiles.Zip(Enumerable.Range(0, 10).Select(i => ($"{i}.png", Image)).ToArray()),
            "x.zip",
            ("imageSize", "8")
        );
        var job = await Service.SubmitAsync(
            Client,
            new
            {
                dataset = dataset.Id.ToString(),
                model = new { family = "dcgan" },
                training = new { batchSize = 4 },
            }
        );
        Assert.Equal(HttpStatusCode.Conflict, (await Client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
        await Client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
    }
}
