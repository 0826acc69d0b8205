using System.Net;
using System.Security.Cryptography;

namespace GanService.Tests;

/// <summary>
/// A checkpoint's bundle is streamed from PostgreSQL to the client: the bytes arrive whole and verified, and the
/// host never holds the whole bundle in memory to send it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CheckpointDownloadTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_bundle_downloads_whole_without_the_host_holding_it_in_memory()
    {
        await using var job = await TrainedJob.RunAsync(postgres, TestData.RgbDcganJob);
        var url = $"/api/jobs/{job.Done.Id}/checkpoints/1/bundle.zip";
        long before = GC.GetTotalAllocatedBytes(precise: true);
        using var response = await job.Client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        long size = response.Content.Headers.ContentLength ?? -1;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var body = await response.Content.ReadAsStreamAsync())
        {
            var buffer = new byte[81920];
            long read = 0;
            int n;
            while ((n = await body.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                read += n;
            }
            Assert.Equal(size, read);
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(size > 4_000_000, $"the bundle is {size} bytes");
        Assert.Equal($"\"{Convert.ToHexStringLower(hash.GetHashAndReset())}\"", response.Headers.ETag?.Tag);
        Assert.True(allocated < size / 4, $"sending {size >> 20} MB allocated {allocated >> 20} MB");
    }
}
