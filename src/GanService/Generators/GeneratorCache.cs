using GanService.Checkpoints;
using GanService.Gan.Checkpoints;
using GanService.Gan.Sampling;
using GanService.Hosting;
using Microsoft.Extensions.Options;

namespace GanService.Generators;

/// <summary>
/// Loaded generators by (job, step, variant), least recently used evicted beyond <c>Gan:GeneratorCacheSize</c>
/// entries or <c>Gan:GeneratorCacheBytes</c> of weights. Concurrent misses on one checkpoint share a single load,
/// so a burst of requests for a cold generator reads its bundle once. A <see cref="LoadedGenerator"/> keeps an entry
/// alive while a request samples from it; an evicted generator is disposed when its last holder lets go.
/// </summary>
public sealed class GeneratorCache(IOptions<GanOptions> options) : IDisposable
{
    private readonly Lock gate = new();
    private readonly LinkedList<Entry> recent = new();
    private readonly Dictionary<(Guid, long, string), LinkedListNode<Entry>> entries = new();
    private readonly Dictionary<(Guid, long, string), Task<bool>> loading = new();
    private long bytes;

    public int Count
    {
        get
        {
            lock (gate)
                return entries.Count;
        }
    }

    /// <summary>
    /// Checkpoints read from the store since the host started: one per miss, however many requests missed.
    /// </summary>
    public long Loads => Interlocked.Read(ref loads);

    private long loads;

    /// <summary>Bytes of the cached generators' weights.</summary>
    public long Bytes
    {
        get
        {
            lock (gate)
                return bytes;
        }
    }

    /// <summary>
    /// A cached generator; <c>variant</c> names the network where a checkpoint holds several (a CycleGAN's two
    /// directions).
    /// </summary>
    public LoadedGenerator? TryGet(Guid jobId, long step, string variant = "")
    {
        lock (gate)
            return Hit((jobId, step, variant));
    }

    /// <summary>
    /// The generator of a checkpoint, loaded from the store on a miss (one load however many requests miss at
    /// once); null when the checkpoint is gone, removed while being read, or fails verification.
    /// </summary>
    public async Task<LoadedGenerator?> GetOrLoadAsync(
        ICheckpointStore store,
        Guid jobId,
        long step,
        Func<CheckpointReader, ILoadedNetwork> load,
        CancellationToken ct,
        string variant = ""
    )
    {
        var key = (jobId, step, variant);
        // A generator evicted by other loads between its own load and this request's turn is loaded again.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            Task<bool> pending;
            lock (gate)
            {
                if (Hit(key) is { } hit)
                    return hit;
                if (!loading.TryGetValue(key, out pending!))
                    loading[key] = pending = LoadAsync(key, store, load);
            }
            if (!await pending.WaitAsync(ct))
                return null;
        }
        return null;
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var entry in recent)
                entry.Evict();
            recent.Clear();
            entries.Clear();
            bytes = 0;
        }
    }

    /// <summary>
    /// One load, shared by every request that misses meanwhile; it runs to the end even if they give up, so that
    /// the next request finds the generator.
    /// </summary>
    private Task<bool> LoadAsync(
        (Guid Job, long Step, string Variant) key,
        ICheckpointStore store,
        Func<CheckpointReader, ILoadedNetwork> load
    ) =>
        Task.Run(async () =>
        {
            try
            {
                Interlocked.Increment(ref loads);
                // Only the generator's entries are fetched, each checked against the manifest's SHA-256 for it: the
                // discriminator and optimizer states are most of a bundle (docs/reliability.md#budgets).
                await using var bundle = await store.OpenBundleAsync(key.Job, key.Step, CancellationToken.None);
                if (bundle is null)
                    return false;
                ILoadedNetwork sampler;
                using (var reader = CheckpointBundle.Open(bundle))
                    sampler = load(reader);
                lock (gate)
                {
                    Insert(key, sampler);
                    Trim();
                }
                return true;
            }
            catch (Exception e) when (e is CorruptCheckpointException or CheckpointGoneException)
            {
                return false;
            }
            finally
            {
                lock (gate)
                    loading.Remove(key);
            }
        });

    private LoadedGenerator? Hit((Guid, long, string) key)
    {
        if (!entries.TryGetValue(key, out var node))
            return null;
        recent.Remove(node);
        recent.AddFirst(node);
        return node.Value.Acquire();
    }

    private LinkedListNode<Entry> Insert((Guid, long, string) key, ILoadedNetwork sampler)
    {
        if (entries.TryGetValue(key, out var existing))
        {
            sampler.Dispose();
            return existing;
        }
        var node = recent.AddFirst(new Entry(key, sampler));
        entries[key] = node;
        bytes += node.Value.Bytes;
        return node;
    }

    /// <summary>Evicts the least recently used beyond either bound, always keeping the newest entry.</summary>
    private void Trim()
    {
        var limits = options.Value;
        while (entries.Count > 1 && (entries.Count > limits.GeneratorCacheSize || bytes > limits.GeneratorCacheBytes))
        {
            var oldest = recent.Last!;
            recent.RemoveLast();
            entries.Remove(oldest.Value.Key);
            bytes -= oldest.Value.Bytes;
            oldest.Value.Evict();
        }
    }

    private sealed class Entry((Guid, long, string) key, ILoadedNetwork sampler)
    {
        private int holders;
        private bool evicted;
        public (Guid, long, string) Key { get; } = key;
        public long Bytes { get; } = sampler.Bytes;

        public LoadedGenerator Acquire()
        {
            Interlocked.Increment(ref holders);
            return new LoadedGenerator(sampler, Release);
        }

        public void Evict()
        {
            lock (this)
            {
                evicted = true;
                if (holders == 0)
                    sampler.Dispose();
            }
        }

        private void Release()
        {
            lock (this)
            {
                if (Interlocked.Decrement(ref holders) == 0 && evicted)
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
