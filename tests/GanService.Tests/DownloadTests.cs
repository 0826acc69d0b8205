using System.Collections.Concurrent;
using System.Net;
using GanService.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace GanService.Tests;

/// <summary>
/// Built-ins downloaded once from a configured mirror, with checksums verified. The mirror is a file server of
/// this test on loopback: nothing reaches the internet.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DownloadTests(PostgresServer postgres)
{
    [SharedDataFact("mnist")]
    public async Task Mnist_downloads_once_from_the_mirror_verifies_and_trains()
    {
        var folder = Path.Combine(SharedData.Root()!, "mnist");
        await using var mirror = await FileServer.StartAsync(new Dictionary<string, byte[]>
        {
            ["/mnist/train-images-idx3-ubyte.gz"] = await File.ReadAllBytesAsync(Path.Combine(folder, "train-images-idx3-ubyte.gz")),
            ["/mnist/train-labels-idx1-ubyte.gz"] = await File.ReadAllBytesAsync(Path.Combine(folder, "train-labels-idx1-ubyte.gz")),
        });
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:DatasetMirrors:mnist"] = mirror.Url + "mnist/" });
        using var client = service.CreateClient();
        for (int i = 0; i < 2; i++)
        {
            var job = await service.SubmitAsync(client, new { dataset = "mnist", model = new { family = "dcgan" }, training = new { steps = 3, batchSize = 8 }, checkpointEvery = 3, seed = i });
            await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Succeeded);
        }
        Assert.Equal(2, mirror.Requests.Count); // two files, fetched once for both jobs
        Assert.True(File.Exists(Path.Combine(service.DownloadDirectory, "mnist", "train-images-idx3-ubyte.gz")));
    }

    [Fact]
    public async Task A_download_that_fails_its_checksum_fails_the_job_and_is_not_kept()
    {
        var tampered = "these are not the MNIST digits"u8.ToArray();
        await using var mirror = await FileServer.StartAsync(new Dictionary<string, byte[]>
        {
            ["/mnist/train-images-idx3-ubyte.gz"] = tampered, ["/mnist/train-labels-idx1-ubyte.gz"] = tampered,
        });
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:DatasetMirrors:mnist"] = mirror.Url + "mnist/" });
        using var client = service.CreateClient();
        var job = await service.SubmitAsync(client, new { dataset = "mnist", model = new { family = "dcgan" }, training = new { steps = 3 } });
        var failed = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Failed);
        Assert.Contains("checksum", failed.Error);
        Assert.Empty(Directory.Exists(service.DownloadDirectory)
            ? Directory.EnumerateFiles(service.DownloadDirectory, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task Without_a_mirror_a_missing_built_in_is_a_400()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        using var client = service.CreateClient();
        var response = await client.PostAsync("/api/jobs", new StringContent("""{"dataset":"cifar10","model":{"family":"dcgan"}}""",
            System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>A static file server on 127.0.0.1 that counts what it was asked for.</summary>
    private sealed class FileServer(WebApplication app, string url) : IAsyncDisposable
    {
        public string Url { get; } = url;
        public ConcurrentQueue<string> Requests { get; } = new();

        public static async Task<FileServer> StartAsync(IReadOnlyDictionary<string, byte[]> files)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            FileServer? server = null;
            app.Run(async http =>
            {
                server!.Requests.Enqueue(http.Request.Path);
                if (files.TryGetValue(http.Request.Path, out var bytes)) await http.Response.Body.WriteAsync(bytes);
                else http.Response.StatusCode = StatusCodes.Status404NotFound;
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            server = new FileServer(app, address.TrimEnd('/') + "/");
            return server;
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}
