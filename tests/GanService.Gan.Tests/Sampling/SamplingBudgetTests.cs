using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Runtime;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

/// <summary>A render's cost is bounded whatever the request asks: truncation has a floor, batches go in chunks, and a
/// cancelled render stops between chunks.</summary>
public class SamplingBudgetTests
{
    private static GeneratorSampler Untrained(string family, int size = 32) =>
        GeneratorSampler.Untrained(
            new TrainingPlan(
                new ModelRecipe(family, size, Classes: family == ModelRecipe.BigGan ? 10 : 0),
                new OptimizerRecipe(),
                1
            ),
            CPU
        );

    [Theory]
    [InlineData(1e-30)]
    [InlineData(0.01)]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_BigGAN_threshold_below_the_floor_is_refused_before_any_redraw(double truncation)
    {
        var problems = new SamplingControls(truncation).Check(new ModelRecipe(ModelRecipe.BigGan, 32));
        Assert.Contains($"at least {BigGanFamily.MinTruncation}", problems["truncation"]);
        using var sampler = Untrained(ModelRecipe.BigGan);
        Assert.Throws<ArgumentException>(() => sampler.Sample(1, 4, controls: new SamplingControls(truncation)));
    }

    [Fact]
    public void The_floor_threshold_renders_promptly_and_ordinary_thresholds_are_unchanged()
    {
        using var sampler = Untrained(ModelRecipe.BigGan);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var tight = sampler.Sample(3, 32, controls: new SamplingControls(BigGanFamily.MinTruncation));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"{watch.Elapsed} for 32 images at the floor");
        Assert.Equal(32, tight.shape[0]);
        using var again = sampler.Sample(3, 32, controls: new SamplingControls(BigGanFamily.MinTruncation));
        Assert.True(tight.eq(again).all().item<bool>(), "clipping after the last redraw is deterministic");
    }

    [Theory]
    [InlineData(ModelRecipe.Dcgan)]
    [InlineData(ModelRecipe.BigGan)]
    [InlineData(ModelRecipe.StyleGan)]
    public void A_batch_rendered_in_chunks_keeps_the_images_of_one_pass(string family)
    {
        using var sampler = Untrained(family);
        int count = GeneratorSampler.RenderChunk + 3;
        using var all = sampler.Sample(
            9,
            count,
            controls: family == ModelRecipe.StyleGan ? new SamplingControls(Noise: NoiseMode.Constant) : null
        );
        using var first = sampler.Sample(
            9,
            GeneratorSampler.RenderChunk,
            controls: family == ModelRecipe.StyleGan ? new SamplingControls(Noise: NoiseMode.Constant) : null
        );
        Assert.Equal(count, all.shape[0]);
        Assert.True(all[..GeneratorSampler.RenderChunk].eq(first).all().item<bool>());
    }

    [Fact]
    public async Task A_cancelled_render_stops_between_chunks_and_frees_its_thread()
    {
        using var sampler = Untrained(ModelRecipe.Dcgan);
        using var threads = new InferenceThreads(1, ThreadPriorityClass.Normal);
        using var cancel = new CancellationTokenSource();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // Far more images than render in the time allowed: only stopping between chunks ends it early.
        var render = threads.RunAsync(
            ct =>
            {
                cancel.CancelAfter(TimeSpan.FromMilliseconds(100));
                using var images = sampler.Sample(1, 1000 * GeneratorSampler.RenderChunk, ct: ct);
                return images.shape[0];
            },
            cancel.Token
        );
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => render);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the render ran {watch.Elapsed} after cancellation");
        Assert.Equal(4, await threads.RunAsync(() => 4));
    }
}
