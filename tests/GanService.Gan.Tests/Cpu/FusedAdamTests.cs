using GanService.Gan.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Gan.Tests.Cpu;

/// <summary>
/// The trainers' Adam updates each parameter in one pass of its own: it must move the weights as TorchSharp's Adam
/// does, step after step, and keep state that the library's checkpoints save and load.
/// </summary>
public class FusedAdamTests
{
    [Fact]
    public void Updates_match_the_librarys_Adam_over_many_steps()
    {
        // Sizes that leave a remainder after the vectors (8 or 16 wide), and a bias-free layer.
        var (fused, reference) = (Network(), Network());
        reference.load_state_dict(fused.state_dict());
        var fusedAdam = new Fused.Adam(fused.parameters(), 2e-4, 0.5, 0.999);
        var libraryAdam = optim.Adam(reference.parameters(), 2e-4, 0.5, 0.999);
        using var rng = new torch.Generator(5);
        for (int step = 0; step < 20; step++)
        {
            using var input = randn([8, 37], generator: rng);
            Step(fused, fusedAdam, input);
            Step(reference, libraryAdam, input);
        }
        foreach (var ((name, a), (_, b)) in fused.named_parameters().Zip(reference.named_parameters()))
        {
            double moved = (b - Network().named_parameters().First(p => p.name == name).parameter)
                .abs()
                .max()
                .item<float>();
            double error = (a - b).abs().max().item<float>();
            Assert.True(error < 1e-6, $"{name}: differs by {error:E2} from the library's Adam");
            Assert.True(moved > 1e-4, $"{name} did not move"); // the comparison means something only if they moved
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void State_saved_by_either_Adam_resumes_in_the_other(bool fusedFirst)
    {
        // Checkpoints stored before the fused optimizer existed hold the library's Adam state, and the reverse must
        // hold for anyone reading new checkpoints with TorchSharp alone.
        var network = Network();
        var first = Adam(fusedFirst, network);
        using var input = randn(4, 37);
        Step(network, first, input);
        Step(network, first, input);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            first.save_state_dict(writer);
        stream.Position = 0;
        // One more step of each must agree, which needs the step count and both moment estimates to have carried over.
        var copy = Network();
        copy.load_state_dict(network.state_dict());
        var second = Adam(!fusedFirst, copy);
        using (var reader = new BinaryReader(stream))
            second.load_state_dict(reader);
        Step(network, first, input);
        Step(copy, second, input);
        foreach (var (a, b) in network.parameters().Zip(copy.parameters()))
            Assert.True((a - b).abs().max().item<float>() < 1e-6);
    }

    private static TorchSharp.Modules.Adam Adam(bool fused, nn.Module network) =>
        fused
            ? new Fused.Adam(network.parameters(), 1e-3, 0.5, 0.999)
            : optim.Adam(network.parameters(), 1e-3, 0.5, 0.999);

    private static nn.Module<Tensor, Tensor> Network()
    {
        var network = nn.Sequential(nn.Linear(37, 19), nn.Tanh(), nn.Linear(19, 3, hasBias: false));
        using var _ = no_grad();
        var seed = new torch.Generator(3);
        foreach (var p in network.parameters())
            p.normal_(0, 0.5, seed);
        return network;
    }

    private static void Step(nn.Module<Tensor, Tensor> network, optim.Optimizer adam, Tensor input)
    {
        adam.zero_grad();
        using var loss = network.call(input).square().mean();
        loss.backward();
        adam.step();
    }
}
