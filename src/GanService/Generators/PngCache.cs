using GanService.Hosting;
using Microsoft.Extensions.Options;

namespace GanService.Generators;

/// <summary>
/// Encoded PNGs of seeded requests, keyed by their ETag (checkpoint checksum and every parameter), least recently
/// used evicted beyond <c>Gan:PngCacheBytes</c>. Safe because seeded sampling is deterministic: the same key always
/// names the same bytes. Many browsers showing one public <c>img</c> then cost one render.
/// </summary>
public sealed class PngCache(IOptions<GanOptions> options)
{
    private readonly Lock gate = new();
    private readonly LinkedList<(string Key, byte[] Png)> recent = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, byte[] Png)>> entries = new();
    private long bytes;

    public byte[]? TryGet(string key)
    {
        lock (gate)
        {
            if (!entries.TryGetValue(key, out var node))
                return null;
            recent.Remove(node);
            recent.AddFirst(node);
            return node.Value.Png;
        }
    }

    public void Add(string key, byte[] png)
    {
        long limit = options.Value.PngCacheBytes;
        if (png.Length > limit / 4)
            return; // one huge grid must not flush everything else
        lock (gate)
        {
            if (entries.ContainsKey(key))
                return;
            entries[key] = recent.AddFirst((key, png));
            bytes += png.Length;
            while (bytes > limit && recent.Last is { } oldest)
            {
                recent.RemoveLast();
                entries.Remove(oldest.Value.Key);
                bytes -= oldest.Value.Png.Length;
            }
        }
    }
}
