using GanService.Gan.Cpu;
using GanService.Gan.Models;
using GanService.Gan.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests;

public class DcganTests
{
    public static TheoryData<int, int> Shapes =>
        new()
        {
            { 28, 1 },
            { 28, 3 },
            { 32, 3 },
            { 64, 3 },
            { 64, 1 },
        };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_generator_maps_latents_to_images_in_tanh_range(int size, int channels)
    {
        using var g = GanNetworks.Generator(new ModelRecipe(ImageSize: size, Channels: channels));
        using var z = randn(5, 100);
        using var images = GanNetworks.Call(g, z, null);
        Assert.Equal(new long[] { 5, channels, size, size }, images.shape);
        Assert.True(images.abs().max().item<float>() <= 1f);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_discriminator_maps_images_to_one_logit(int size, int channels)
    {
        using var d = GanNetworks.Discriminator(new ModelRecipe(ImageSize: size, Channels: channels));
        using var images = rand(5, channels, size, size).mul(2).sub(1);
        using var logits = GanNetworks.Call(d, images, null);
        Assert.Equal(new long[] { 5 }, logits.shape);
    }

    [Fact]
    public void Images_come_out_in_the_default_layout()
    {
        using var images = Generated();
        Assert.True(images.is_contiguous());
    }

    [Fact]
    public void Channels_last_inside_changes_no_value()
    {
        using var images = Generated();
        using var channelsLast = ChannelsLast.Of(images);
        Assert.False(channelsLast.is_contiguous());
        Assert.Equal(images.data<float>().ToArray(), ChannelsLast.Undo(channelsLast).data<float>().ToArray());
        using var d = GanNetworks.Discriminator(new ModelRecipe(ImageSize: 28, Channels: 3));
        d.eval();
        using var logits = GanNetworks.Call(d, images, null);
        using var logitsChannelsLast = GanNetworks.Call(d, channelsLast, null);
        Assert.True(logits.allclose(logitsChannelsLast, rtol: 1e-5, atol: 1e-6));
    }

    /// <summary>
    /// Four generated RGB images. The networks run channels-last internally; callers that read a tensor's memory (PNG
    /// encoding) rely on getting the default layout back, and a discriminator must score a batch the same in either.
    /// </summary>
    private static Tensor Generated()
    {
        using var g = GanNetworks.Generator(new ModelRecipe(ImageSize: 28, Channels: 3));
        g.eval();
        using var z = randn(4, 100);
        return GanNetworks.Call(g, z, null);
    }

    [Theory]
    [InlineData("dcgan", 28, 3, "batch", true)]
    [InlineData("dcgan", 28, 3, "batch", false)]
    [InlineData("dcgan", 64, 1, "batch", true)]
    [InlineData("dcgan", 32, 3, "none", true)]
    [InlineData("dcgan", 28, 1, "spectral", false)]
    [InlineData("conditional-dcgan", 28, 1, "batch", true)]
    public void The_discriminator_scores_as_its_stored_layers_do_in_their_order(
        string family,
        int size,
        int channels,
        string norm,
        bool training
    )
    {
        // D flattens its features in memory order and reorders the weights that read them; a checkpoint's layers,
        // run one after another with the usual flatten, must give the same scores.
        var recipe = new ModelRecipe(family, size, channels, Classes: family == "dcgan" ? 0 : 10, Normalization: norm);
        using var d = GanNetworks.Discriminator(recipe);
        d.train(training);
        using var rng = new torch.Generator(5);
        using var images = rand([16, channels, size, size], generator: rng).mul(2).sub(1);
        using var labels = recipe.Conditional ? randint(0, 10, [16], generator: rng) : null;
        var modules = d.named_modules().ToDictionary(m => m.name, m => m.module);
        string prefix = recipe.Conditional ? "body." : "";
        using var features = ((nn.Module<Tensor, Tensor>)modules[prefix + "features"]).call(images);
        using var expected =
            ((nn.Module<Tensor, Tensor>)modules[prefix + "classifier"]).call(features).squeeze(1)
            + (
                labels is null
                    ? zeros(16)
                    : (((nn.Module<Tensor, Tensor>)modules["projection"]).call(labels) * features).sum(1)
            );
        using var logits = GanNetworks.Call(d, images, labels);
        Assert.True(
            logits.allclose(expected, rtol: 1e-4, atol: 1e-5),
            $"max difference {(logits - expected).abs().max().item<float>()}"
        );
    }

    [Fact]
    public void Layer_sizes_are_the_courses_for_28x28()
    {
        var recipe = new ModelRecipe(ImageSize: 28, Channels: 1);
        using var g = GanNetworks.Generator(recipe);
        using var d = GanNetworks.Discriminator(recipe);
        // G: 100 -> 64*7*7 dense (no bias), BN, two 4x4 transposed convs 64->64 (no bias) with BN, 3x3 to 1 channel.
        long generator = 100 * 64 * 49 + 2 * 64 + 2 * (64 * 64 * 16 + 2 * 64) + (64 * 1 * 9 + 1);
        // D: 3x3 convs 1->64 and 64->64 with biases, BN on the second, dense 64*7*7 -> 1.
        long discriminator = (1 * 64 * 9 + 64) + (64 * 64 * 9 + 64) + 2 * 64 + (64 * 49 + 1);
        Assert.Equal(generator, GanNetworks.ParameterCount(g));
        Assert.Equal(discriminator, GanNetworks.ParameterCount(d));
    }

    [Fact]
    public void Checkpoint_names_are_those_stored_networks_were_saved_with()
    {
        // Stored checkpoints load by these names: a layer registered twice, or renamed, breaks every stored generator.
        using var g = GanNetworks.Generator(new ModelRecipe(ImageSize: 28, Channels: 3));
        string[] norm = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"];
        string[] expected =
        [
            "project.0.weight",
            .. norm.Select(n => $"project.2.{n}"),
            "upsample.0.weight",
            .. norm.Select(n => $"upsample.1.{n}"),
            "upsample.3.weight",
            .. norm.Select(n => $"upsample.4.{n}"),
            "output.0.weight",
            "output.0.bias",
        ];
        Assert.Equal(expected.Order(), g.state_dict().Keys.Order());
        using var d = GanNetworks.Discriminator(new ModelRecipe(ImageSize: 28, Channels: 3));
        string[] expectedD =
        [
            "features.0.weight",
            "features.0.bias",
            "features.2.weight",
            "features.2.bias",
            .. norm.Select(n => $"features.3.{n}"),
            "classifier.weight",
            "classifier.bias",
        ];
        Assert.Equal(expectedD.Order(), d.state_dict().Keys.Order());
    }

    [Fact]
    public void Initialisation_draws_weights_from_N_0_0_02()
    {
        using var g = Initialised();
        var weights = g.named_parameters().Where(p => p.name.EndsWith("weight") && p.parameter.ndim > 1).ToList();
        Assert.NotEmpty(weights);
        foreach (var (name, w) in weights)
        {
            Assert.InRange(w.mean().item<float>(), -0.003, 0.003);
            Assert.InRange(w.std().item<float>(), 0.018, 0.022);
        }
    }

    [Fact]
    public void Initialisation_draws_batch_norm_scales_from_N_1_0_02()
    {
        using var g = Initialised();
        var scales = g.named_parameters().Where(p => p.name.EndsWith("weight") && p.parameter.ndim == 1).ToList();
        Assert.NotEmpty(scales);
        using var allScales = cat(scales.Select(s => s.parameter.detach()).ToList(), 0);
        Assert.InRange(allScales.mean().item<float>(), 0.99, 1.01);
    }

    private static nn.Module Initialised()
    {
        var g = GanNetworks.Generator(new ModelRecipe(ImageSize: 64, Channels: 3));
        using var rng = new torch.Generator(5);
        Initialization.Apply(g, rng);
        return g;
    }

    [Theory]
    [InlineData("dcgan", 28, 1, "batch")]
    [InlineData("dcgan", 28, 3, "batch")]
    [InlineData("dcgan", 32, 3, "none")]
    [InlineData("dcgan", 64, 3, "batch")]
    [InlineData("dcgan", 28, 1, "spectral")]
    [InlineData("conditional-dcgan", 28, 1, "batch")]
    public void Gradients_match_a_float64_reference(string family, int size, int channels, string norm)
    {
        var recipe = new ModelRecipe(family, size, channels, Classes: family == "dcgan" ? 0 : 10, Normalization: norm);
        using var inputRng = new torch.Generator(11);
        using var latents = randn([64, 100], generator: inputRng);
        using var images = rand([64, channels, size, size], generator: inputRng).mul(2).sub(1);
        using var labels = recipe.Conditional ? randint(0, 10, [64], generator: inputRng) : null;
        GradientCheck.AssertMatchesFloat64(() => GanNetworks.Generator(recipe), latents, labels);
        GradientCheck.AssertMatchesFloat64(() => GanNetworks.Discriminator(recipe), images, labels);
    }
}
