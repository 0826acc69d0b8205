using System.Collections.Concurrent;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using GanService.Gan.Data;
using GanService.Hosting;
using Microsoft.Extensions.Options;

namespace GanService.Datasets;

/// <summary>
/// Fetches a built-in dataset once from the mirror configured for it (<c>Gan:DatasetMirrors:NAME</c>, a base URL),
/// verifies the published checksums, and keeps it under <c>Gan:DownloadDirectory</c> for every later job. A file
/// whose checksum does not match is deleted and the download fails; nothing unverified is ever used.
/// </summary>
public sealed class BuiltInDownloader(
    IHttpClientFactory http,
    IOptions<GanOptions> options,
    ILogger<BuiltInDownloader> logger
)
{
    private const long MaxDownloadBytes = 512L << 20;

    /// <summary>
    /// What to fetch. MNIST: MD5 of the decompressed files as published with the dataset; Fashion-MNIST: of the
    /// decompressed files as Debian's dataset-fashion-mnist ships the upstream data; CIFAR-10: of the binary
    /// archive as published on the CIFAR-10 page.
    /// </summary>
    private static readonly Dictionary<string, (string File, string Md5, bool OfContent)[]> Files = new()
    {
        [BuiltInDatasets.Mnist] =
        [
            ("train-images-idx3-ubyte.gz", "6bbc9ace898e44ae57da46a324031adb", true),
            ("train-labels-idx1-ubyte.gz", "a25bea736e30d166cdddb491f175f624", true),
        ],
        [BuiltInDatasets.FashionMnist] =
        [
            ("train-images-idx3-ubyte.gz", "f4a8712d7a061bf5bd6d2ca38dc4d50a", true),
            ("train-labels-idx1-ubyte.gz", "9018921c3c673c538a1fc5bad174d6f9", true),
        ],
        [BuiltInDatasets.Cifar10] = [("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", false)],
    };

    private readonly ConcurrentDictionary<string, SemaphoreSlim> locks = new();

    public string Directory => options.Value.DownloadDirectory;

    public bool CanDownload(string name) => Files.ContainsKey(name) && Mirror(name) is not null;

    /// <summary>Downloads and verifies a built-in into <see cref="Directory"/> unless it is there already.</summary>
    public async Task EnsureAsync(string name, CancellationToken ct)
    {
        var mirror = Mirror(name)
            ?? throw new DatasetUnavailableException(
                $"Dataset '{name}' is not installed and no mirror is configured for it (Gan:DatasetMirrors:{name})."
            );
        var gate = locks.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (BuiltInDatasets.Locate(name, [Directory]) is not null)
                return;
            var folder = Path.Combine(Directory, name);
            System.IO.Directory.CreateDirectory(folder);
            foreach (var (file, md5, ofContent) in Files[name])
            {
                var url = new Uri(new Uri(mirror.EndsWith('/') ? mirror : mirror + "/"), file);
                var target = Path.Combine(folder, file);
                var partial = target + $".partial-{Guid.NewGuid():N}";
                try
                {
                    logger.LogInformation("Downloading {Url} for dataset {Name}.", url, name);
                    try
                    {
                        await DownloadAsync(url, partial, ct);
                    }
                    catch (HttpRequestException e)
                    {
                        // The mirror is the operator's own setting, so naming it and the failure helps whoever reads.
                        throw new DatasetUnavailableException($"Downloading {url} failed: {e.Message}", e);
                    }
                    var actual = ofContent ? ContentMd5(partial) : FileMd5(partial);
                    if (!actual.Equals(md5, StringComparison.OrdinalIgnoreCase))
                        throw new DatasetUnavailableException(
                            $"The checksum of {url} does not match the published one (MD5 {actual}, expected {md5}); "
                                + "it was discarded."
                        );
                    File.Move(partial, target, overwrite: true);
                }
                finally
                {
                    File.Delete(partial);
                }
            }
            if (name == BuiltInDatasets.Cifar10)
                ExtractCifar(folder);
        }
        finally
        {
            gate.Release();
        }
    }

    private string? Mirror(string name) =>
        options.Value.DatasetMirrors.GetValueOrDefault(name) is { Length: > 0 } url ? url : null;

    private async Task DownloadAsync(Uri url, string path, CancellationToken ct)
    {
        using var response = await http.CreateClient(nameof(BuiltInDownloader))
            .GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
            throw new DatasetUnavailableException($"Downloading {url} failed: it answered {(int)response.StatusCode}.");
        await using var source = await response.Content.ReadAsStreamAsync(ct);
        await using var target = File.Create(path);
        var buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = await source.ReadAsync(buffer, ct)) > 0)
        {
            if ((total += n) > MaxDownloadBytes)
                throw new DatasetUnavailableException($"{url} is larger than {MaxDownloadBytes} bytes.");
            await target.WriteAsync(buffer.AsMemory(0, n), ct);
        }
    }

    private static string FileMd5(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(stream));
    }

    /// <summary>MD5 of a gzip file's decompressed content; a damaged gzip is a mismatch, not a crash.</summary>
    private static string ContentMd5(string path)
    {
        try
        {
            using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            return Convert.ToHexStringLower(MD5.HashData(gzip));
        }
        catch (InvalidDataException)
        {
            return "not-gzip";
        }
    }

    /// <summary>Takes the batch files out of the archive by their base names only; nothing else is written.</summary>
    private static void ExtractCifar(string folder)
    {
        var archive = Path.Combine(folder, "cifar-10-binary.tar.gz");
        using var tar = new TarReader(new GZipStream(File.OpenRead(archive), CompressionMode.Decompress));
        while (tar.GetNextEntry() is { } entry)
        {
            var name = Path.GetFileName(entry.Name);
            if (
                entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                || !(name.StartsWith("data_batch_") || name is "test_batch.bin" or "batches.meta.txt")
            )
                continue;
            entry.ExtractToFile(Path.Combine(folder, name), overwrite: true);
        }
        File.Delete(archive);
    }
}
