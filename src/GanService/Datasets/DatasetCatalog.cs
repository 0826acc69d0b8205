using System.Collections.Concurrent;
using System.Security.Cryptography;
using GanService.Gan.Data;
using GanService.Gan.Training;
using GanService.Hosting;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Datasets;

/// <summary>
/// The datasets a job may name (built-in names, or the id of an uploaded one), where their bytes are, and a small
/// cache of loaded ones so that consecutive jobs on one worker do not decode MNIST again.
/// </summary>
public sealed class DatasetCatalog(
    IOptions<GanOptions> options,
    IOptions<DatasetLimits> limits,
    IDbContextFactory<GanDbContext> contexts,
    BuiltInDownloader downloader
) : IDisposable
{
    private readonly ConcurrentDictionary<string, string> builtInHashes = new();
    private const int CachedDatasets = 2;
    private readonly Lock gate = new();
    private readonly List<(string Key, TrainingData Data)> cache = [];

    public IReadOnlyList<string> Names => BuiltInDatasets.Names;
    public IEnumerable<string> Directories => options.Value.DataDirectories.Select(Path.GetFullPath);

    public bool IsKnown(string name) => Names.Contains(name);

    /// <summary>On this host already, or downloadable from a configured mirror.</summary>
    public bool IsAvailable(string name) =>
        BuiltInDatasets.Locate(name, Directories) is not null || downloader.CanDownload(name);

    /// <summary>
    /// Classes of a built-in's labels: the quadrants of the synthetic blobs, ten digits, garments or objects.
    /// </summary>
    public int ClassCount(string name) =>
        name == SyntheticBlobs.Name ? SyntheticBlobs.Classes
        : SyntheticBlobs.IsSynthetic(name) ? 0
        : IsKnown(name) ? 10
        : 0;

    /// <summary>What a built-in holds: the translation sets are paired or unpaired, the others labelled.</summary>
    public DatasetKind Kind(string name) => SyntheticBlobs.KindOf(name);

    /// <summary>Items available for training, where known without loading.</summary>
    public int? ItemCount(string name) =>
        name == SyntheticBlobs.Name ? SyntheticBlobs.DefaultCount
        : SyntheticBlobs.IsSynthetic(name) ? SyntheticBlobs.TranslationCount
        : null;

    /// <summary>
    /// SHA-256 identifying a built-in's data: of its source files, in name order (computed once per process);
    /// null for synthetic data, which the seed identifies.
    /// </summary>
    public string? Sha256(string name)
    {
        if (SyntheticBlobs.IsSynthetic(name) || BuiltInDatasets.Locate(name, Directories) is not { } folder)
            return null;
        return builtInHashes.GetOrAdd(name, _ =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
                sha.AppendData(File.ReadAllBytes(file));
            return Convert.ToHexStringLower(sha.GetHashAndReset());
        });
    }

    /// <summary>
    /// The data at a geometry: a built-in name, or the id of an uploaded dataset. The caller must not dispose
    /// it: the catalog owns cached datasets.
    /// </summary>
    public TrainingData Load(string name, int imageSize, int channels, long seed)
    {
        // Synthetic data depends on the seed; files and uploads do not.
        var key = $"{name}/{imageSize}/{channels}/{(SyntheticBlobs.IsSynthetic(name) ? seed : 0)}";
        // Outside the lock: a download may take minutes and must not hold up other jobs' data.
        if (IsKnown(name) && !SyntheticBlobs.IsSynthetic(name) && BuiltInDatasets.Locate(name, Directories) is null)
            downloader.EnsureAsync(name, CancellationToken.None).GetAwaiter().GetResult();
        lock (gate)
        {
            var hit = cache.FindIndex(c => c.Key == key);
            if (hit >= 0)
                return cache[hit].Data;
            var data = Guid.TryParse(name, out var id)
                ? LoadUploaded(id, imageSize, channels)
                : BuiltInDatasets.LoadTraining(
                    name,
                    Directories,
                    imageSize,
                    channels,
                    seed,
                    limits.Value.MaxShapedBytes
                );
            cache.Add((key, data));
            if (cache.Count > CachedDatasets)
            {
                // Not disposed: a running job may still hold it. Its tensor's finalizer frees it once unreferenced.
                cache.RemoveAt(0);
            }
            return data;
        }
    }

    /// <summary>An uploaded dataset at the geometry; paired and unpaired data come with domain B as targets.</summary>
    private TrainingData LoadUploaded(Guid id, int imageSize, int channels)
    {
        using var db = contexts.CreateDbContext();
        var bytes = db.Datasets.Where(d => d.Id == id).Select(d => d.Bytes).SingleOrDefault()
            ?? throw new DatasetUnavailableException($"Dataset {id} no longer exists.");
        var stored = StoredDataset.Deserialize(bytes);
        var targets = stored.ToImageDatasetB(id.ToString()) is { } b ? Shaped(b, imageSize, channels) : null;
        return new TrainingData(Shaped(stored.ToImageDataset(id.ToString()), imageSize, channels), targets);
    }

    /// <summary>Resized once, or per batch where a copy would pass <c>Gan:Datasets:MaxShapedBytes</c>.</summary>
    private ImageDataset Shaped(ImageDataset native, int imageSize, int channels)
    {
        var shaped = native.Reshape(imageSize, channels, limits.Value.MaxShapedBytes);
        if (!ReferenceEquals(shaped, native))
            native.Dispose();
        return shaped;
    }

    public void Dispose()
    {
        lock (gate)
            foreach (var (_, data) in cache)
            {
                data.Images.Dispose();
                data.Targets?.Dispose();
            }
    }
}
