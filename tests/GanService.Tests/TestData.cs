using GanService.Gan.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

internal static class TestData
{
    /// <summary>
    /// A small, quick synthetic DCGAN job body; override fields with a <c>with</c>-style anonymous object.
    /// </summary>
    /// <summary>
    /// A 64x64 RGB DCGAN trained for one step, checkpointed at it: its weights, EMA-less, and both Adam states come
    /// to several megabytes, the discriminator and the optimizer states being most of them.
    /// </summary>
    public static readonly object RgbDcganJob = new
    {
        dataset = "synthetic",
        model = new
        {
            family = "dcgan",
            imageSize = 64,
            channels = 3,
        },
        training = new { steps = 1, batchSize = 4 },
        checkpointEvery = 1,
    };

    public static object SyntheticJob(
        int steps = 40,
        int batchSize = 16,
        int checkpointEvery = 20,
        long seed = 5,
        string device = "cpu"
    ) =>
        new
        {
            name = "test-job",
            dataset = "synthetic",
            model = new
            {
                family = "dcgan",
                imageSize = 28,
                channels = 1,
            },
            training = new { steps, batchSize },
            checkpointEvery,
            seed,
            device,
        };

    public static Image<Rgb24> DecodePng(byte[] bytes)
    {
        Assert.True(bytes.Length > 8 && bytes[0] == 0x89 && bytes[1] == (byte)'P', "not a PNG");
        return Image.Load<Rgb24>(bytes);
    }
}

/// <summary>Runs only where no CUDA device exists (the case it tests).</summary>
public sealed class CpuOnlyFactAttribute : FactAttribute
{
    public CpuOnlyFactAttribute()
    {
        if (TorchRuntime.CudaAvailable)
            Skip = "This machine has CUDA; the test covers hosts without it.";
    }
}
