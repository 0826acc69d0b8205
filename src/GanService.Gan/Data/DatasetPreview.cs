using GanService.Gan.Imaging;
using static TorchSharp.torch;

namespace GanService.Gan.Data;

/// <summary>Which items a preview shows: indices into domain A and domain B, in the order they are tiled.</summary>
public sealed record PreviewPicks(long[] A, long[] B);

/// <summary>
/// A grid of real items drawn by a seed: pairs side by side, unpaired domains one after the other. The items are
/// picked from the header alone, so a caller can fetch just those items' bytes from where the dataset is stored
/// rather than the whole dataset.
/// </summary>
public static class DatasetPreview
{
    public static PreviewPicks Pick(DatasetHeader header, int count, long seed)
    {
        var random = new Random(unchecked((int)seed));
        switch (header.Kind)
        {
            case DatasetKind.Paired:
                var pairs = Pick(random, header.Count, Math.Max(1, count / 2));
                return new PreviewPicks(pairs, pairs);
            case DatasetKind.Unpaired:
                var a = Pick(random, header.Count, (count + 1) / 2);
                return new PreviewPicks(a, Pick(random, header.CountB, count / 2));
            default:
                return new PreviewPicks(Pick(random, header.Count, count), []);
        }
    }

    /// <summary>The grid of a whole dataset held in memory.</summary>
    public static byte[] Render(StoredDataset stored, int count, long seed)
    {
        var picks = Pick(stored.Header, count, seed);
        int item = stored.Header.ItemBytes;
        return Render(stored.Header, Gather(stored.Pixels, picks.A, item), Gather(stored.PixelsB, picks.B, item));
    }

    /// <summary>
    /// The grid of the picked items, given as their pixels one after another (<paramref name="pixelsA"/> in the order
    /// of <see cref="PreviewPicks.A"/>, <paramref name="pixelsB"/> of <see cref="PreviewPicks.B"/>).
    /// </summary>
    public static byte[] Render(DatasetHeader header, byte[] pixelsA, byte[] pixelsB)
    {
        int item = header.ItemBytes;
        int countA = pixelsA.Length / item,
            countB = pixelsB.Length / item;
        using var scope = NewDisposeScope();
        var a = Images(header, pixelsA, countA);
        var (images, columns) = header.Kind switch
        {
            // A_i, B_i side by side: two tiles per pair, an even number of columns.
            DatasetKind.Paired => (
                stack([a, Images(header, pixelsB, countB)], 1).flatten(0, 1),
                2 * Math.Max(1, (int)Math.Ceiling(Math.Sqrt(countA)))
            ),
            DatasetKind.Unpaired => (
                cat([a, Images(header, pixelsB, countB)], 0),
                (int)Math.Ceiling(Math.Sqrt(countA + countB))
            ),
            _ => (a, (int)Math.Ceiling(Math.Sqrt(countA))),
        };
        return ImageGrid.EncodePng(images, columns);
    }

    /// <summary>Every item of <paramref name="pixels"/> as float images, the way training sees them.</summary>
    private static Tensor Images(DatasetHeader header, byte[] pixels, int count)
    {
        using var data = new ImageDataset("preview", pixels, count, header.Channels, header.ImageSize);
        return data.Batch(Enumerable.Range(0, count).Select(i => (long)i).ToArray(), CPU);
    }

    private static byte[] Gather(byte[]? pixels, long[] picks, int item)
    {
        var gathered = new byte[picks.Length * item];
        for (int i = 0; i < picks.Length; i++)
            pixels.AsSpan((int)(picks[i] * item), item).CopyTo(gathered.AsSpan(i * item));
        return gathered;
    }

    private static long[] Pick(Random random, int available, int wanted)
    {
        var order = Enumerable.Range(0, available).ToArray();
        random.Shuffle(order);
        return order.Take(Math.Min(wanted, available)).Select(i => (long)i).ToArray();
    }
}
