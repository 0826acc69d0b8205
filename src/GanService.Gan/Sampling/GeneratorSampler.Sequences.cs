using GanService.Gan.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Sampling;

// Images across seeds: the interpolation between two and StyleGAN's mixing table (one batch of samples is in
// GeneratorSampler.cs).
public sealed partial class GeneratorSampler
{
    /// <summary>
    /// <paramref name="steps"/> frames from seed <paramref name="from"/>'s first image to seed <paramref name="to"/>'s:
    /// spherical interpolation of the Gaussian z, or linear in w for StyleGAN. Every frame gets the same noise.
    /// </summary>
    public Tensor Interpolate(
        long from,
        long to,
        int steps,
        IReadOnlyList<int>? labels = null,
        SamplingControls? controls = null,
        CancellationToken ct = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        controls = Checked(controls, labels);
        if (controls.MixSeed is not null)
            throw new ArgumentException("Style mixing does not apply to an interpolation.", nameof(controls));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor First(long seed)
        {
            using var rng = new torch.Generator((ulong)seed);
            return Latents(rng, 1, controls.Truncation);
        }
        var (a, b) = (First(from), First(to));
        var t = linspace(0, 1, steps).unsqueeze(1).to(device);
        if (generator is StyleGenerator style)
        {
            var frames = new List<Tensor>();
            var (wa, wb) = (Styles(style, a, controls.Truncation), Styles(style, b, controls.Truncation));
            for (int i = 0; i < steps; i++)
            {
                ct.ThrowIfCancellationRequested();
                using var frame = NewDisposeScope();
                using var rng = new torch.Generator((ulong)from); // the same noise in every frame
                frames.Add(
                    Display(style.Synthesize(wa.lerp(wb, t[i]), controls.Noise ?? NoiseMode.Random, rng))
                        .cpu()
                        .MoveToOuterDisposeScope()
                );
            }
            return cat(frames, 0).MoveToOuterDisposeScope();
        }
        var z = Slerp(a, b, t);
        // A conditional generator keeps one class, the first asked for (0 by default), across the frames.
        var classes = Classes(steps, labels is { Count: > 0 } ? [labels[0]] : [0]);
        return InChunks(steps, ct, part => GanNetworks.Call(generator, z[part], classes?[part]))
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// StyleGAN's mixing table: a blank corner, the column seeds' images along the top, the row seeds' images down
    /// the left, and in each cell the row seed's styles with the column seed's from layer
    /// <paramref name="mixFrom"/> on.
    /// </summary>
    public Tensor MixingTable(
        IReadOnlyList<long> rowSeeds,
        IReadOnlyList<long> columnSeeds,
        int mixFrom,
        SamplingControls? controls = null,
        CancellationToken ct = default
    )
    {
        controls = Checked(
            (controls ?? SamplingControls.None) with
            {
                MixSeed = columnSeeds.FirstOrDefault(),
                MixFrom = mixFrom,
            },
            null
        );
        var style =
            generator as StyleGenerator ?? throw new ArgumentException("Only a StyleGAN generator has styles to mix.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor W(long seed)
        {
            using var rng = new torch.Generator((ulong)seed);
            return Styles(style, Latents(rng, 1, null), controls.Truncation);
        }
        ct.ThrowIfCancellationRequested();
        var rows = rowSeeds.Select(W).ToList();
        var columns = columnSeeds.Select(W).ToList();
        var cells = new List<Tensor>();
        foreach (var row in rows)
        foreach (var column in columns)
            cells.Add(cat([row[.., ..mixFrom], column[.., mixFrom..]], 1));
        using var noiseRng = new torch.Generator((ulong)rowSeeds.FirstOrDefault());
        var images = Display(
            style.Synthesize(cat([.. columns, .. rows, .. cells], 0), controls.Noise ?? NoiseMode.Random, noiseRng)
        );
        int c = columns.Count;
        var blank = zeros_like(images[..1]);
        var layout = new List<Tensor> { blank, images[..c] };
        for (int r = 0; r < rows.Count; r++)
            layout.AddRange([
                images[(c + r)..(c + r + 1)],
                images[(c + rows.Count + r * c)..(c + rows.Count + (r + 1) * c)],
            ]);
        return cat(layout, 0).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Spherical interpolation between a and b [1, D] at each t [T, 1]; linear where they are nearly parallel.
    /// </summary>
    public static Tensor Slerp(Tensor a, Tensor b, Tensor t)
    {
        var cosine = (a / a.norm()).mul(b / b.norm()).sum().clamp(-1, 1);
        double omega = Math.Acos(cosine.item<float>());
        if (Math.Sin(omega) < 1e-4)
            return a.lerp(b, t);
        return (((1 - t) * omega).sin() * a + (t * omega).sin() * b) / Math.Sin(omega);
    }
}
