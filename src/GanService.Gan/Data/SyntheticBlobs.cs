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
    public const int DefaultCount = 4096,
        Classes = 4;

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
