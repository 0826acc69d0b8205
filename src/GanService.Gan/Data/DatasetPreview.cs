using GanService.Gan.Imaging;
using static TorchSharp.torch;

namespace GanService.Gan.Data;

/// <summary>A grid of real items drawn by a seed: pairs side by side, unpaired domains one after the other.</summary>
public static class DatasetPreview
{
    public static byte[] Render(StoredDataset stored, int count, long seed)
    {
        using var a = stored.ToImageDataset("preview");
        using var b = stored.ToImageDatasetB("preview");
        var random = new Random(unchecked((int)seed));
        using var scope = NewDisposeScope();
        Tensor images;
        int columns;
        switch (stored.Header.Kind)
        {
            case DatasetKind.Paired:
                var pairs = Pick(random, a.Count, Math.Max(1, count / 2));
                // A_i, B_i side by side: two tiles per pair, an even number of columns.
                images = stack([a.Batch(pairs, CPU), b!.Batch(pairs, CPU)], 1).flatten(0, 1);
                columns = 2 * Math.Max(1, (int)Math.Ceiling(Math.Sqrt(pairs.Length)));
                break;
            case DatasetKind.Unpaired:
                images = cat(
                    [
                        a.Batch(Pick(random, a.Count, (count + 1) / 2), CPU),
                        b!.Batch(Pick(random, b.Count, count / 2), CPU),
                    ],
                    0
                );
                columns = (int)Math.Ceiling(Math.Sqrt(images.shape[0]));
                break;
            default:
                images = a.Batch(Pick(random, a.Count, count), CPU);
                columns = (int)Math.Ceiling(Math.Sqrt(images.shape[0]));
                break;
        }
        return ImageGrid.EncodePng(images, columns);
    }

    private static long[] Pick(Random random, int available, int wanted)
    {
        var order = Enumerable.Range(0, available).ToArray();
        random.Shuffle(order);
        return order.Take(Math.Min(wanted, available)).Select(i => (long)i).ToArray();
    }
}
