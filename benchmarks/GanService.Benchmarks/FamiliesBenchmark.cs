namespace GanService.Benchmarks;

/// <summary>
/// Every family through the library loop: each DCGAN variant at 28x28x1, BigGAN, ProGAN and StyleGAN (with R1 on
/// every update beside its default), and the two translation families at 64x64x3, with their networks' sizes.
/// </summary>
internal static class FamiliesBenchmark
{
    public static void Run(int steps)
    {
        Console.WriteLine();
        Console.WriteLine("| family (library loop) | ms/step (median) | images/s | G parameters | D parameters |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, _) in TrainingBenchmark.Families)
        {
            var r = TrainingBenchmark.Bare(28, 1, steps, name);
            Console.WriteLine(
                $"| {r.Model} | {r.MedianMs:F1} | {64 * 1000 / r.MedianMs:F0} | {r.GeneratorParameters} | "
                    + $"{r.DiscriminatorParameters} |"
            );
        }
        // StyleGAN with R1 on every update (before lazy regularisation) beside its default, every 16th.
        foreach (
            var (family, r1Every) in new (string, int?)[]
            {
                ("biggan", null),
                ("progan", null),
                ("stylegan", 1),
                ("stylegan", null),
            }
        )
        {
            var r = TrainingBenchmark.Modern(family, steps, r1Every);
            Console.WriteLine(
                $"| {r.Model} | {r.MedianMs:F1} | {32 * 1000 / r.MedianMs:F0} | {r.GeneratorParameters} | "
                    + $"{r.DiscriminatorParameters} |"
            );
        }
        foreach (var family in new[] { "pix2pix", "cyclegan" })
        {
            var r = TrainingBenchmark.Translation(family, Math.Max(3, steps / 3));
            var recipe = new GanService.Gan.Training.ModelRecipe(family, 64, 3);
            using var g = GanService.Gan.Models.GanNetworks.Generator(recipe);
            using var d = GanService.Gan.Models.GanNetworks.Discriminator(recipe);
            int networks = family == "cyclegan" ? 2 : 1; // CycleGAN trains two of each
            Console.WriteLine(
                $"| {r.Model} | {r.MedianMs:F1} | {4 * 1000 / r.MedianMs:F0} | {networks} x "
                    + $"{GanService.Gan.Models.GanNetworks.ParameterCount(g)} | {networks} x "
                    + $"{GanService.Gan.Models.GanNetworks.ParameterCount(d)} |"
            );
        }
    }
}
