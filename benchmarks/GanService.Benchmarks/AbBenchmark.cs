using GanService.Gan.Cpu;
using GanService.Gan.Data;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Benchmarks;

/// <summary>
/// One of GanService's own kernels against libtorch's path, in one trainer and one process: rounds of steps with the
/// switch on and off in turn (ABBA order), so the machine's drift, which is larger than most single changes here,
/// falls on both sides. Prints each round and the median of the paired differences, and how many pairs the kernel won.
/// With STEPS 1 the sides alternate step by step, finer than any drift: 1,000 rounds resolve about 0.1 ms (the
/// trimmed mean's standard error, printed too), where rounds of 100 steps left 1-2 ms of drift in each pair.
/// Usage: <c>benchmarks/run.sh ab ROUNDS STEPS SWITCH [28x3]</c>, SWITCH one of <see cref="FastPaths.Off"/> or
/// <c>none</c>.
/// </summary>
internal static class AbBenchmark
{
    /// <summary>The switch of an A/A run, which turns nothing off: the noise floor of the comparison.</summary>
    private const string None = "none";

    private static IEnumerable<string> Switches => FastPaths.Off.Keys.Append(None);

    /// <summary>ROUNDS STEPS SWITCH [SIZExCHANNELS]; returns the process's exit code.</summary>
    public static int Run(string[] args)
    {
        var model = (args.Length > 3 ? args[3] : "28x3").Split('x');
        if (
            args is not [var r, var s, var name, ..]
            || !int.TryParse(r, out int rounds)
            || !int.TryParse(s, out int steps)
            || !Switches.Contains(name)
            || model is not [var sizeText, var channelsText]
            || !int.TryParse(sizeText, out int size)
            || !int.TryParse(channelsText, out int channels)
        )
        {
            Console.Error.WriteLine(
                $"Usage: benchmarks/run.sh ab ROUNDS STEPS SWITCH [28x3], SWITCH one of {string.Join(", ", Switches)}"
            );
            return 2;
        }
        Run(rounds, steps, name, size, channels);
        return 0;
    }

    private static void Run(int rounds, int steps, string name, int size, int channels)
    {
        Func<FastPaths, FastPaths> off = name == None ? paths => paths : FastPaths.Off[name];
        Console.WriteLine(
            $"A/B of '{name}' (A: GanService's path, B: libtorch's), DCGAN {size}x{size}x{channels}, batch 64, "
                + $"{rounds} rounds of {steps} steps, median step per side"
        );
        var (a, b) = Torch.OnOwnThread(() =>
        {
            var plan = new TrainingPlan(
                new ModelRecipe(ImageSize: size, Channels: channels),
                new OptimizerRecipe(),
                10 + 2 * rounds * steps,
                64,
                Seed: 1
            );
            using var data = SyntheticBlobs.Create(size, channels, seed: 1);
            using var trainer = GanTrainer.Create(plan, data, CPU);
            trainer.Train(10);
            List<double> onSide = [],
                offSide = [];
            for (int round = 0; round < rounds; round++)
                foreach (bool sideB in round % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    var perStep = new List<double>();
                    using (FastPaths.Override(sideB ? off : paths => paths))
                        trainer.Train(steps, new TrainingBenchmark.Collect(perStep));
                    (sideB ? offSide : onSide).Add(Stopwatches.Median(perStep));
                }
            return (onSide, offSide);
        });
        for (int r = 0; r < rounds; r++)
            Console.WriteLine($"round {r + 1}: A {a[r]:F2} ms, B {b[r]:F2} ms, A - B {a[r] - b[r]:+0.00;-0.00} ms");
        var differences = a.Zip(b, (x, y) => x - y).ToList();
        Console.WriteLine(
            $"median A {Stopwatches.Median(a):F2} ms, median B {Stopwatches.Median(b):F2} ms, "
                + $"median of paired A - B {Stopwatches.Median(differences):+0.00;-0.00} ms, "
                + $"A faster in {differences.Count(d => d < 0)} of {rounds}"
        );
        // A step now and then stalls (the machine, not the switch): the mean leaves out a tenth at each end.
        var kept = differences.Order().Skip(rounds / 10).Take(rounds - 2 * (rounds / 10)).ToList();
        if (kept.Count > 2)
        {
            double mean = kept.Average(),
                spread = Math.Sqrt(kept.Sum(d => (d - mean) * (d - mean)) / (kept.Count - 1));
            Console.WriteLine(
                $"trimmed mean of paired A - B {mean:+0.00;-0.00} ms "
                    + $"+- {spread / Math.Sqrt(kept.Count):F2} (standard error)"
            );
        }
    }
}
