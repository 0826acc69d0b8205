using GanService.Gan.Training;

namespace GanService.Gan.Data;

/// <summary>
/// Datasets known by name: <c>synthetic</c> is made in code; the others are read from the first data directory
/// that holds their files (e.g. ../shared/data, or /usr/share/datasets from Debian's dataset-fashion-mnist).
/// </summary>
public static class BuiltInDatasets
{
    public const string Mnist = "mnist",
        FashionMnist = "fashion-mnist",
        Cifar10 = "cifar10";

    public static IReadOnlyList<string> Names { get; } =
    [SyntheticBlobs.Name, SyntheticBlobs.PairsName, SyntheticBlobs.UnpairedName, Mnist, FashionMnist, Cifar10];

    /// <summary>Where a name's files live, or null when none of the directories has them.</summary>
    public static string? Locate(string name, IEnumerable<string> dataDirectories)
    {
        if (SyntheticBlobs.IsSynthetic(name))
            return "";
        foreach (var root in dataDirectories)
        {
            if (string.IsNullOrWhiteSpace(root))
                continue;
            var folder = Path.Combine(root, name == Cifar10 ? "cifar10-subset" : name);
            if (name == Cifar10 && !Directory.Exists(folder))
                folder = Path.Combine(root, "cifar10");
            bool found =
                name == Cifar10
                    ? Directory.Exists(folder) && Directory.EnumerateFiles(folder, "data_batch_*").Any()
                    : FindIdx(folder, "train-images-idx3-ubyte") is not null;
            if (found)
                return folder;
        }
        return null;
    }

    /// <summary>
    /// A built-in dataset as training data: the translation sets with their domain B as targets, the others as
    /// <see cref="Load"/> gives them.
    /// </summary>
    public static TrainingData LoadTraining(
        string name,
        IEnumerable<string> dataDirectories,
        int imageSize,
        int channels,
        long seed,
        long maxShapedBytes = ImageDataset.DefaultMaxShapedBytes
    ) =>
        name is SyntheticBlobs.PairsName or SyntheticBlobs.UnpairedName
            ? SyntheticBlobs.Translation(name, imageSize, channels, seed)
            : new TrainingData(Load(name, dataDirectories, imageSize, channels, seed, maxShapedBytes));

    /// <summary>
    /// Loads a built-in dataset at the requested geometry; where its resized copy would pass
    /// <paramref name="maxShapedBytes"/>, it stays at its own size and each batch is resized as it is drawn.
    /// </summary>
    public static ImageDataset Load(
        string name,
        IEnumerable<string> dataDirectories,
        int imageSize,
        int channels,
        long seed,
        long maxShapedBytes = ImageDataset.DefaultMaxShapedBytes
    )
    {
        if (name == SyntheticBlobs.Name)
            return SyntheticBlobs.Create(imageSize, channels, seed);
        if (SyntheticBlobs.IsSynthetic(name))
            throw new ArgumentException($"'{name}' has two domains: load it with LoadTraining.", nameof(name));
        var folder = Locate(name, dataDirectories)
            ?? throw new FileNotFoundException($"Dataset '{name}' was not found in any data directory.");
        var native = name == Cifar10 ? LoadCifar(folder) : LoadIdx(name, folder);
        var shaped = native.Reshape(imageSize, channels, maxShapedBytes);
        if (!ReferenceEquals(shaped, native))
            native.Dispose();
        return shaped;
    }

    private static ImageDataset LoadIdx(string name, string folder)
    {
        using var images = File.OpenRead(FindIdx(folder, "train-images-idx3-ubyte")!);
        var (pixels, count, rows, columns) = IdxReader.ReadImages(images);
        if (rows != columns)
            throw new InvalidDataException($"{name}: images are {rows}x{columns}, not square.");
        var labelPath = FindIdx(folder, "train-labels-idx1-ubyte");
        byte[]? labels = null;
        if (labelPath is not null)
        {
            using var labelStream = File.OpenRead(labelPath);
            labels = IdxReader.ReadLabels(labelStream);
        }
        return new ImageDataset(name, pixels, count, 1, rows, labels);
    }

    private static ImageDataset LoadCifar(string folder)
    {
        var files = Directory.EnumerateFiles(folder, "data_batch_*").Order(StringComparer.Ordinal).ToList();
        var streams = files.Select(f => (Stream)File.OpenRead(f)).ToList();
        try
        {
            var (pixels, labels) = CifarReader.Read(streams);
            return new ImageDataset(Cifar10, pixels, labels.Length, CifarReader.Channels, CifarReader.Size, labels);
        }
        finally
        {
            streams.ForEach(s => s.Dispose());
        }
    }

    private static string? FindIdx(string folder, string stem) =>
        new[] { stem, stem + ".gz", stem.Replace("-idx", ".idx"), stem.Replace("-idx", ".idx") + ".gz" }
            .Select(f => Path.Combine(folder, f))
            .FirstOrDefault(File.Exists);
}
