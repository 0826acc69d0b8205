using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Training;

/// <summary>
/// Differentiable augmentation (Zhao et al. 2020) applied alike to real and fake images before the discriminator,
/// so a small dataset cannot be memorised: colour (brightness, saturation, contrast), translation (up to 1/8 of the
/// side, zero padded) and cutout (a square of half the side). Random draws come from the run's generator.
/// </summary>
public static class DiffAugment
{
    public const string Color = "color",
        Translation = "translation",
        Cutout = "cutout";
    public static IReadOnlyList<string> Policies { get; } = [Color, Translation, Cutout];

    public static Tensor Apply(Tensor x, IReadOnlyList<string> policy, torch.Generator rng)
    {
        foreach (var p in policy)
            x = p switch
            {
                Color => Colour(x, rng),
                Translation => Translate(x, rng),
                Cutout => CutOut(x, rng),
                _ => x,
            };
        return x;
    }

    private static Tensor Rand(Tensor x, torch.Generator rng) =>
        rand([x.shape[0], 1, 1, 1], generator: rng).to(x.device);

    private static Tensor Colour(Tensor x, torch.Generator rng)
    {
        x = x + (Rand(x, rng) - 0.5);
        var mean = x.mean([1], keepdim: true);
        x = (x - mean) * (Rand(x, rng) * 2) + mean;
        var all = x.mean([1, 2, 3], keepdim: true);
        return (x - all) * (Rand(x, rng) + 0.5) + all;
    }

    /// <summary>Shifts each image by a whole number of pixels, filling with zeros, via one gather.</summary>
    private static Tensor Translate(Tensor x, torch.Generator rng)
    {
        long n = x.shape[0],
            h = x.shape[2],
            w = x.shape[3];
        long sh = Math.Max(1, h / 8),
            sw = Math.Max(1, w / 8);
        var dy = randint(-sh, sh + 1, [n, 1, 1], generator: rng).to(x.device);
        var dx = randint(-sw, sw + 1, [n, 1, 1], generator: rng).to(x.device);
        var rows = arange(h, device: x.device).view(1, h, 1) + dy;
        var cols = arange(w, device: x.device).view(1, 1, w) + dx;
        var padded = nn.functional.pad(x, [1, 1, 1, 1]);
        var r = rows.clamp(-1, h).add(1).expand(n, h, w);
        var c = cols.clamp(-1, w).add(1).expand(n, h, w);
        var index = (r * (w + 2) + c).view(n, 1, h * w).expand(-1, x.shape[1], -1);
        return padded.flatten(2).gather(2, index).view(x.shape);
    }

    private static Tensor CutOut(Tensor x, torch.Generator rng)
    {
        long n = x.shape[0],
            h = x.shape[2],
            w = x.shape[3],
            ch = h / 2,
            cw = w / 2;
        var cy = randint(0, h + (1 - ch % 2), [n, 1, 1], generator: rng).to(x.device);
        var cx = randint(0, w + (1 - cw % 2), [n, 1, 1], generator: rng).to(x.device);
        var rows = arange(h, device: x.device).view(1, h, 1);
        var cols = arange(w, device: x.device).view(1, 1, w);
        var inside = ((rows - cy).abs() < ch / 2.0).logical_and((cols - cx).abs() < cw / 2.0);
        return x * inside.logical_not().unsqueeze(1).to(x.dtype);
    }
}
