using GanService.Gan.Runtime;
using GanService.Gan.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

internal static class TestSupport
{
    static TestSupport() => TorchRuntime.TuneAllocator();

    public static TrainingPlan Plan(int steps = 40, int size = 28, int channels = 1, int batch = 32, long seed = 1) =>
        new(new ModelRecipe(ImageSize: size, Channels: channels), new OptimizerRecipe(), steps, batch, Seed: seed);

    public static Image<Rgb24> DecodePng(byte[] png) => Image.Load<Rgb24>(png);

    /// <summary>Largest absolute difference between two state dictionaries with the same keys.</summary>
    public static double MaxDifference(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        return a.Keys.Max(k => a[k].to(ScalarType.Float64).sub(b[k].to(ScalarType.Float64)).abs().max().item<double>());
    }
}
