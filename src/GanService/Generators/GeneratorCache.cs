using GanService.Checkpoints;
using GanService.Gan.Checkpoints;
using GanService.Hosting;
using Microsoft.Extensions.Options;

namespace GanService.Generators;

/// <summary>
/// Loaded generators by (job, step), least recently used evicted beyond <c>Gan:GeneratorCacheSize</c>. A lease
/// keeps an entry alive while a request samples from it; an evicted generator is disposed when its last lease ends.
/// </summary>
public sealed class GeneratorCache(IOptions<GanOptions> options) : IDisposable
{
    private readonly Lock gate = new();
    private readonly LinkedList<Entry> recent = new();
    private readonly Dictionary<(Guid, long, string), LinkedListNode<Entry>> entries = new();

    public int Count
    {
        get
        {
            lock (gate)
                return entries.Count;
        }
    }

    /// <summary>
    /// A cached generator; <c>variant</c> names the network where a checkpoint holds several (a CycleGAN's two
    /// directions).
    /// </summary>
    public LoadedGenerator? TryGet(Guid jobId, long step, string variant = "")
    {
        lock (gate)
        {
            if (!entries.TryGetValue((jobId, step, variant), out var node))
                return null;
            recent.Remove(node);
            recent.AddFirst(node);
            return node.Value.Acquire();
        }
    }

    /// <summary>
    /// The generator of a checkpoint, loaded from the store on a miss; null when the checkpoint is gone or fails
    /// verification.
    /// </summary>
    public async Task<LoadedGenerator?> GetOrLoadAsync(
        ICheckpointStore store,
        Guid jobId,
        long step,
        Func<byte[], string, IDisposable> load,
        CancellationToken ct,
        string variant = ""
    )
    {
        if (TryGet(jobId, step, variant) is { } hit)
            return hit;
        var stored = await store.GetAsync(jobId, step, ct);
        if (stored is null)
            return null;
        try
        {
            return Add(jobId, step, load(stored.Bundle, stored.Sha256), variant);
        }
        catch (CorruptCheckpointException)
        {
            return null;
        }
    }

    /// <summary>Adds a freshly loaded generator (or returns the one another request added first).</summary>
    public LoadedGenerator Add(Guid jobId, long step, IDisposable sampler, string variant = "")
    {
        lock (gate)
        {
            if (entries.TryGetValue((jobId, step, variant), out var existing))
            {
                sampler.Dispose();
                return existing.Value.Acquire();
            }
            var node = recent.AddFirst(new Entry((jobId, step, variant), sampler));
            entries[(jobId, step, variant)] = node;
            while (entries.Count > options.Value.GeneratorCacheSize)
            {
                var oldest = recent.Last!;
                recent.RemoveLast();
                entries.Remove(oldest.Value.Key);
                oldest.Value.Evict();
            }
            return node.Value.Acquire();
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var entry in recent)
                entry.Evict();
            recent.Clear();
            entries.Clear();
        }
    }

    private sealed class Entry((Guid, long, string) key, IDisposable sampler)
    {
        private int leases;
        private bool evicted;
        public (Guid, long, string) Key { get; } = key;

        public LoadedGenerator Acquire()
        {
            Interlocked.Increment(ref leases);
            return new LoadedGenerator(sampler, Release);
        }

        public void Evict()
        {
            lock (this)
            {
                evicted = true;
                if (leases == 0)
                    sampler.Dispose();
            }
        }

        private void Release()
        {
            lock (this)
            {
                if (Interlocked.Decrement(ref leases) == 0 && evicted)
                    sampler.Dispose();
            }
        }
    }

    /// <summary>A cached generator held for one request; disposing it lets the cache evict and free it.</summary>
    public sealed class LoadedGenerator(IDisposable sampler, Action release) : IDisposable
    {
        private int released;

        /// <summary>
        /// The loaded generator: a GeneratorSampler, or a TranslationSampler for image-to-image jobs.
        /// </summary>
        public T As<T>()
            where T : class =>
            sampler as T
            ?? throw new InvalidOperationException(
                $"The cached generator is a {sampler.GetType().Name}, not a {typeof(T).Name}."
            );

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
                release();
        }
    }
}
