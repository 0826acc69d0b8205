using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Gan.Checkpoints;

/// <summary>
/// One entry of a trainer's checkpoint: its name, how its bytes are written and read back, and what the trainer
/// owns through it. A trainer lists its parts once; <see cref="Training.Trainer"/> saves, resumes and disposes
/// from that list.
/// </summary>
public sealed class CheckpointPart(
    string name,
    Action<BinaryWriter> save,
    Action<Stream> load,
    params IDisposable[] owned
)
{
    public string Name { get; } = name;

    /// <summary>Disposed with the trainer.</summary>
    internal IReadOnlyList<IDisposable> Owned { get; } = owned;

    /// <summary>Writes through a BinaryWriter left open: TorchSharp's Stream overloads close the stream.</summary>
    internal void Write(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        save(writer);
        writer.Flush();
    }

    internal void Read(Stream stream) => load(stream);

    public static CheckpointPart Network(string name, nn.Module network) =>
        new(name, w => network.save(w), s => network.load(s), network);

    public static CheckpointPart Optimizer(string name, Adam optimizer) =>
        new(name, optimizer.save_state_dict, s => optimizer.load_state_dict(new BinaryReader(s)), optimizer);

    /// <summary>A tensor's values: a resume copies them into the tensor already in place.</summary>
    public static CheckpointPart Values(string name, Tensor tensor) =>
        new(
            name,
            tensor.Save,
            s =>
            {
                using var stored = Tensor.Load(s);
                tensor.copy_(stored);
            },
            tensor
        );

    public static CheckpointPart Rng(string name, torch.Generator rng) =>
        new(
            name,
            w =>
            {
                using var state = rng.get_state();
                state.Save(w);
            },
            s =>
            {
                using var state = Tensor.Load(s);
                rng.set_state(state);
            },
            rng
        );
}
