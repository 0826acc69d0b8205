using GanService.Gan.Imaging;
using GanService.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using static GanService.Tests.ModernFamilyJobTests;

namespace GanService.Tests;

/// <summary>
/// A StyleGAN job through the API: its family's defaults, truncation towards the average image, style mixing from
/// the layer asked, interpolation between seeds, and its sampling controls refused out of range by name.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StyleGanJobTests(PostgresServer postgres, BuiltOnce<TrainedJob> jobs)
    : IClassFixture<BuiltOnce<TrainedJob>>
{
    private Task<TrainedJob> StyleGanAsync() => jobs.GetAsync("stylegan", () => TrainedJob.RunAsync(
                postgres,
                new
                {
                    dataset = "synthetic",
                    model = new { family = "stylegan", width = 8 },
                    training = new { steps = 6, batchSize = 8 },
                    checkpointEvery = 6,
                    seed = 2,
                },
                EveryStep
            ));

    [Fact]
    public async Task A_stylegan_job_takes_its_familys_defaults()
    {
        var job = (await StyleGanAsync()).Submitted;
        Assert.Equal(
            (32, "bce", 1.0, 16, 0.99, 0.99, 0.9),
            (
                job.Model.ImageSize,
                job.Training.Loss,
                job.Training.R1,
                job.Training.R1Every,
                job.Training.Ema,
                job.Training.Beta2,
                job.Model.StyleMixing
            )
        );
    }

    [Fact]
    public async Task A_stylegan_job_truncates_to_the_average_image()
    {
        // psi 0 with the fixed noise maps: every seed is the average image.
        var stylegan = await StyleGanAsync();
        var (client, root) = (stylegan.Client, stylegan.Generator);
        var average = await client.GetByteArrayAsync($"{root}/image.png?seed=1&truncation=0&noise=const");
        Assert.Equal(average, await client.GetByteArrayAsync($"{root}/image.png?seed=2&truncation=0&noise=const"));
        Assert.NotEqual(average, await client.GetByteArrayAsync($"{root}/image.png?seed=2&noise=const"));
    }

    [Fact]
    public async Task A_stylegan_job_mixes_styles_from_the_layer_asked()
    {
        var stylegan = await StyleGanAsync();
        var (client, root) = (stylegan.Client, stylegan.Generator);
        var mixed = await client.GetByteArrayAsync($"{root}/image.png?seed=1&mix=2&mixFrom=3");
        Assert.Equal(mixed, await client.GetByteArrayAsync($"{root}/image.png?seed=1&mix=2&mixFrom=3"));
        Assert.NotEqual(mixed, await client.GetByteArrayAsync($"{root}/image.png?seed=1&mix=2&mixFrom=6"));
        var table = await client.GetByteArrayAsync($"{root}/mixing.png?rows=1,2&columns=3,4,5&mixFrom=2");
        using (var decoded = TestData.DecodePng(table))
            Assert.Equal(ImageGrid.Size(12, 4, 32), (decoded.Width, decoded.Height));
    }

    [Fact]
    public async Task A_stylegan_job_interpolates_between_seeds()
    {
        var stylegan = await StyleGanAsync();
        var (client, root) = (stylegan.Client, stylegan.Generator);
        var strip = await client.GetByteArrayAsync($"{root}/interpolation.png?from=1&to=2&steps=5");
        using (var decoded = TestData.DecodePng(strip))
            Assert.Equal(ImageGrid.Size(5, 5, 32), (decoded.Width, decoded.Height));
        var gif = await client.GetAsync($"{root}/interpolation.gif?from=1&to=2&steps=6");
        Assert.Equal("image/gif", gif.Content.Headers.ContentType!.MediaType);
        using (var animation = Image.Load(await gif.Content.ReadAsByteArrayAsync()))
        {
            Assert.Equal((6, 32, 32), (animation.Frames.Count, animation.Width, animation.Height));
            Assert.Equal(0, animation.Metadata.GetGifMetadata().RepeatCount); // loops forever
        }
    }

    [Fact]
    public async Task A_stylegan_job_refuses_controls_out_of_range_by_name()
    {
        var stylegan = await StyleGanAsync();
        var (client, root) = (stylegan.Client, stylegan.Generator);
        await AssertRefused(client, $"{root}/image.png?mix=2&mixFrom=8", "mixFrom"); // layers 0 to 7 at 32x32
        await AssertRefused(client, $"{root}/image.png?mixFrom=3", "mix");
        await AssertRefused(client, $"{root}/image.png?noise=loud", "noise");
        await AssertRefused(client, $"{root}/image.png?truncation=3", "truncation");
        await AssertRefused(client, $"{root}/image.png?label=1", "label");
        await AssertRefused(client, $"{root}/interpolation.png?from=1", "to");
        await AssertRefused(client, $"{root}/interpolation.gif?from=1&to=2&steps=65", "steps");
        await AssertRefused(client, $"{root}/mixing.png?rows=1,2,3,4,5,6,7,8,9", "rows");
    }
}
