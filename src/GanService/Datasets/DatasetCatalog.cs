using GanService.Gan.Data;
using GanService.Hosting;
using Microsoft.Extensions.Options;

namespace GanService.Datasets;

/// <summary>
/// The datasets a job may name, where their files are on this host, and a small cache of loaded ones so that
/// consecutive jobs on one worker do not decode MNIST again.
/// </summary>
public sealed class DatasetCatalog(IOptions<GanOptions> options) : IDisposable
{
    private const int CachedDatasets = 2;
    private readonly Lock gate = new();
    private readonly List<(string Key, ImageDataset Data)> cache = [];

    public IReadOnlyList<string> Names => BuiltInDatasets.Names;
    public IEnumerable<string> Directories => options.Value.DataDirectories.Select(Path.GetFullPath);

    public bool IsKnown(string name) => Names.Contains(name);

    public bool IsAvailable(string name) => BuiltInDatasets.Locate(name, Directories) is not null;

    /// <summary>Items available for training, where known without loading.</summary>
    public int? ItemCount(string name) => name == SyntheticBlobs.Name ? SyntheticBlobs.DefaultCount : null;

    /// <summary>
    /// The dataset at a geometry. The caller must not dispose it: the catalog owns cached datasets.
    /// </summary>
    public ImageDataset Load(string name, int imageSize, int channels, long seed)
    {
        // Synthetic data depends on the seed; files do not.
        var key = $"{name}/{imageSize}/{channels}/{(name == SyntheticBlobs.Name ? seed : 0)}";
        lock (gate)
        {
            var hit = cache.FindIndex(c => c.Key == key);
            if (hit >= 0) return cache[hit].Data;
            var data = BuiltInDatasets.Load(name, Directories, imageSize, channels, seed);
            cache.Add((key, data));
            if (cache.Count > CachedDatasets)
            {
                // Not disposed: a running job may still hold it. Its tensor's finalizer frees it once unreferenced.
                cache.RemoveAt(0);
            }
            return data;
        }
    }

    public void Dispose()
    {
        lock (gate) cache.ForEach(c => c.Data.Dispose());
    }
}
