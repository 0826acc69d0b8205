using GanService.Gan.Training;

namespace GanService.Gan.Data;

/// <summary>
/// A dataset made in code: one soft-edged bright disc per image on a black background, of varying position,
/// radius and (for RGB) colour. Its label is the quadrant the disc is centred in (0 top-left, 1 top-right,
/// 2 bottom-left, 3 bottom-right), so class-conditional models can be checked too. Deterministic from its seed,
/// and learnable in a few hundred CPU steps, so tests can measure that training moved the generator toward it.
/// </summary>
public static class SyntheticBlobs
{
    public const string Name = "synthetic";

    /// <summary>Discs (domain A) paired with the same images inverted (domain B, 255 - v): a fixed mapping.</summary>
    public const string PairsName = "synthetic-pairs";

    /// <summary>Discs (domain A) and inverted discs of another draw (domain B): two unpaired domains.</summary>
    public const string UnpairedName = "synthetic-unpaired";

    public const int DefaultCount = 4096,
        Classes = 4;

    /// <summary>Items per domain of the translation sets, as many as a small real one (facades has 400).</summary>
    public const int TranslationCount = 512;

    /// <summary>Whether <paramref name="name"/> is made in code, so that its seed, not files, identifies it.</summary>
    public static bool IsSynthetic(string name) => name is Name or PairsName or UnpairedName;

    /// <summary>What a synthetic dataset holds: labelled discs, or one of the translation sets.</summary>
    public static DatasetKind KindOf(string name) =>
        name switch
        {
            PairsName => DatasetKind.Paired,
            UnpairedName => DatasetKind.Unpaired,
            _ => DatasetKind.Labelled,
        };

    /// <summary>The translation set <paramref name="name"/> (<see cref="PairsName"/> or
    /// <see cref="UnpairedName"/>), domain B as the targets.</summary>
    public static TrainingData Translation(string name, int size, int channels, long seed)
    {
        var a = Create(size, channels, seed, TranslationCount);
        if (name == PairsName)
            return new TrainingData(a, Inverted(a, PairsName));
        using var other = Create(size, channels, seed + 1, TranslationCount);
        return new TrainingData(a, Inverted(other, UnpairedName));
    }

    private static ImageDataset Inverted(ImageDataset images, string name)
    {
        var pixels = images.PixelBytes();
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)(255 - pixels[i]);
        return new ImageDataset(name, pixels, images.Count, images.Channels, images.ImageSize);
    }

    private static readonly (byte R, byte G, byte B)[] Palette =
    [
        (255, 64, 64),
        (64, 255, 64),
        (64, 128, 255),
        (255, 255, 64),
        (255, 64, 255),
        (64, 255, 255),
        (255, 255, 255),
    ];

    public static ImageDataset Create(int size, int channels, long seed = 0, int count = DefaultCount)
    {
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32) ^ 0x5EED));
        int plane = size * size;
        var pixels = new byte[(long)count * channels * plane];
        var labels = new byte[count];
        double half = size / 2.0;
        for (int n = 0; n < count; n++)
        {
            int quadrant = random.Next(Classes);
            labels[n] = (byte)quadrant;
            double radius = size * (0.08 + 0.12 * random.NextDouble());
            double cx = (quadrant % 2) * half + half * (0.3 + 0.4 * random.NextDouble());
            double cy = (quadrant / 2) * half + half * (0.3 + 0.4 * random.NextDouble());
            var colour =
                channels == 1 ? (R: (byte)255, G: (byte)255, B: (byte)255) : Palette[random.Next(Palette.Length)];
            int offset = n * channels * plane;
            for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double distance = Math.Sqrt((x + 0.5 - cx) * (x + 0.5 - cx) + (y + 0.5 - cy) * (y + 0.5 - cy));
                double coverage = Math.Clamp(radius - distance + 0.5, 0, 1); // one-pixel antialiased edge
                if (coverage == 0)
                    continue;
                int at = offset + y * size + x;
                pixels[at] = (byte)(colour.R * coverage);
                if (channels == 3)
                {
                    pixels[at + plane] = (byte)(colour.G * coverage);
                    pixels[at + 2 * plane] = (byte)(colour.B * coverage);
                }
            }
        }
        return new ImageDataset(Name, pixels, count, channels, size, labels);
    }
}
