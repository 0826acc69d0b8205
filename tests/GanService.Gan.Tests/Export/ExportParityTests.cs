using System.Text.Json;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Export;

/// <summary>
/// Every family's export, run in PyTorch by its own gan_generator.py on the same latents, labels, noise and images,
/// gives TorchSharp's outputs: the forward pass of each exported network, and the seeded samples the service
/// renders (GeneratorSampler, TranslationSampler). One python3 process checks every case.
/// </summary>
public sealed class ExportParityTests(BuiltOnce<ExportParityTests.Run> run)
    : IClassFixture<BuiltOnce<ExportParityTests.Run>>
{
    private const double Tolerance = 1e-4;

    private static readonly string[] Names =
    [
        "dcgan/raw",
        "dcgan/ema",
        "dcgan/sample",
        "conditional-dcgan/forward",
        "conditional-dcgan/sample",
        "biggan/forward",
        "biggan/sample-truncated",
        "biggan-pt/forward",
        "biggan-pt/sample-truncated",
        "progan-fading/forward",
        "progan-fading/sample",
        "progan-grown/forward",
        "stylegan/truncated-noise",
        "stylegan/const",
        "stylegan/sample-mixed",
        "pix2pix/forward",
        "cyclegan/AtoB",
        "cyclegan/BtoA",
    ];

    private static readonly string[] Cases =
    [
        "dcgan",
        "conditional-dcgan",
        "biggan",
        "biggan-pt",
        "progan-fading",
        "progan-grown",
        "stylegan",
        "pix2pix",
        "cyclegan",
    ];

    public static TheoryData<string> Checks => new(Names);

    public static TheoryData<string> Exports => new(Cases);

    [Theory]
    [MemberData(nameof(Checks))]
    public void Python_reproduces_TorchSharp(string check)
    {
        var differences = run.Get(() => new Run()).Differences;
        Assert.True(differences.TryGetValue(check, out var difference), $"python3 did not report {check}.");
        Assert.True(difference <= Tolerance, $"{check}: PyTorch differs from TorchSharp by {difference}.");
    }

    /// <summary>torch.onnx.export writes the exported module, as docs/export.md shows (0: it did).</summary>
    [Theory]
    [MemberData(nameof(Exports))]
    public void The_module_exports_to_onnx(string name) =>
        Assert.Equal(0, run.Get(() => new Run()).Differences[$"{name}/onnx"]);

    [Fact]
    public void Python_ran_exactly_the_listed_checks() =>
        Assert.Equal(
            Names.Concat(Cases.Select(c => $"{c}/onnx")).Order(),
            run.Get(() => new Run()).Differences.Keys.Order()
        );

    /// <summary>The cases built, exported and checked in one python3 run.</summary>
    public sealed class Run : IDisposable
    {
        private readonly string root = Directory.CreateTempSubdirectory("export-parity-").FullName;

        public Run()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var cases = ExportCases.All(root);
            cases.ForEach(c => c.Save());
            var script = Path.Combine(AppContext.BaseDirectory, "Export", "check_export.py");
            var output = PythonTorch.Run(script, cases.Select(c => c.Folder).ToArray());
            Differences = JsonSerializer.Deserialize<Dictionary<string, double>>(output)!;
        }

        public IReadOnlyDictionary<string, double> Differences { get; }

        public void Dispose() => Directory.Delete(root, recursive: true);
    }
}
