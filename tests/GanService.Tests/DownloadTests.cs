using System.Collections.Concurrent;
using System.Net;
using GanService.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace GanService.Tests;

/// <summary>
/// Built-ins downloaded once from a configured mirror, with checksums verified. The mirror is a file server of
/// this test on loopback: nothing reaches the internet.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DownloadTests(PostgresServer postgres, BuiltOnce<DownloadTests.MirroredMnist> mnist)
    : IClassFixture<BuiltOnce<DownloadTests.MirroredMnist>>
{
    /// <summary>Two MNIST jobs on a host whose mirror serves the real files, each waited for until it ended.</summary>
    public sealed record MirroredMnist(FileServer Mirror, GanServiceFactory Service, List<JobResponse> Jobs)
        : IAsyncDisposable
    {
        public static async Task<MirroredMnist> RunAsync(PostgresServer postgres)
        {
            var folder = Path.Combine(SharedData.Root()!, "mnist");
            var files = new Dictionary<string, byte[]>();
            foreach (var name in new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz" })
                files[$"/mnist/{name}"] = await File.ReadAllBytesAsync(Path.Combine(folder, name));
            var mirror = await FileServer.StartAsync(files);
            var service = new GanServiceFactory(
                await postgres.CreateDatabaseAsync(),
                settings: new Dictionary<string, string?> { ["Gan:DatasetMirrors:mnist"] = mirror.Url + "mnist/" }
            );
            using var client = service.CreateClient();
            var jobs = new List<JobResponse>();
            for (int i = 0; i < 2; i++)
            {
                var job = await service.SubmitAsync(
                    client,
                    new
                    {
                        dataset = "mnist",
                        model = new { family = "dcgan" },
                        training = new { steps = 3, batchSize = 8 },
                        checkpointEvery = 3,
                        seed = i,
                    }
                );
                jobs.Add(await TrainedJob.WaitForEndAsync(client, job.Id));
            }
            return new MirroredMnist(mirror, service, jobs);
        }

        public async ValueTask DisposeAsync()
        {
            await Service.DisposeAsync();
            await Mirror.DisposeAsync();
        }
    }

    private Task<MirroredMnist> MnistAsync() => mnist.GetAsync(() => MirroredMnist.RunAsync(postgres));

    [SharedDataFact("mnist")]
    public async Task Mnist_downloaded_from_the_mirror_trains()
    {
        Assert.All((await MnistAsync()).Jobs, job => Assert.Equal(JobStatus.Succeeded, job.Status));
    }

    [SharedDataFact("mnist")]
    public async Task Mnist_is_kept_after_one_download_for_every_job()
    {
        var run = await MnistAsync();
        Assert.Equal(2, run.Mirror.Requests.Count); // two files, fetched once for both jobs
        Assert.True(File.Exists(Path.Combine(run.Service.DownloadDirectory, "mnist", "train-images-idx3-ubyte.gz")));
    }

    [Fact]
    public async Task A_download_that_fails_its_checksum_fails_the_job_and_is_not_kept()
    {
        var tampered = "these are not the MNIST digits"u8.ToArray();
        await using var mirror = await FileServer.StartAsync(
            new Dictionary<string, byte[]>
            {
                ["/mnist/train-images-idx3-ubyte.gz"] = tampered,
                ["/mnist/train-labels-idx1-ubyte.gz"] = tampered,
            }
        );
        await using var service = new GanServiceFactory(
            await postgres.CreateDatabaseAsync(),
            settings: new Dictionary<string, string?> { ["Gan:DatasetMirrors:mnist"] = mirror.Url + "mnist/" }
        );
        using var client = service.CreateClient();
        var job = await service.SubmitAsync(
            client,
            new
            {
                dataset = "mnist",
                model = new { family = "dcgan" },
                training = new { steps = 3 },
            }
        );
        var failed = await GanServiceFactory.WaitForStatusAsync(client, job.Id, JobStatus.Failed);
        Assert.Contains("checksum", failed.Error);
        Assert.Empty(
            Directory.Exists(service.DownloadDirectory)
                ? Directory.EnumerateFiles(service.DownloadDirectory, "*", SearchOption.AllDirectories)
                : []
        );
    }

    [Fact]
    public async Task Without_a_mirror_a_missing_built_in_is_a_400()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), role: "api");
        using var client = service.CreateClient();
        var response = await client.PostAsync(
            "/api/jobs",
            new StringContent(
                """{"dataset":"cifar10","model":{"family":"dcgan"}}""",
                System.Text.Encoding.UTF8,
                "application/json"
            )
        );
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>A static file server on 127.0.0.1 that counts what it was asked for.</summary>
    public sealed class FileServer(WebApplication app, string url) : IAsyncDisposable
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
                if (files.TryGetValue(http.Request.Path, out var bytes))
                    await http.Response.Body.WriteAsync(bytes);
                else
                    http.Response.StatusCode = StatusCodes.Status404NotFound;
            });
            await app.StartAsync();
            var address = app
                .Services.GetRequiredService<IServer>()
                .Features.Get<IServerAddressesFeature>()!
                .Addresses.First();
            server = new FileServer(app, address.TrimEnd('/') + "/");
            return server;
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}
