namespace GanService.Testing;

/// <summary>The shared/data folder beside the checkout, found upwards from the test binaries.</summary>
public static class SharedData
{
    public static string? Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared", "data");
            if (Directory.Exists(candidate))
                return Path.GetFullPath(candidate);
        }
        return null;
    }
}

/// <summary>A fact that skips, rather than fails, where ../shared/data/FOLDER is absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute(string folder)
    {
        if (SharedData.Root() is not { } root || !Directory.Exists(Path.Combine(root, folder)))
            Skip = $"../shared/data/{folder} is not present on this machine.";
    }
}

/// <summary>A fact that skips where a dataset installed by a system package is absent.</summary>
public sealed class InstalledDataFactAttribute : FactAttribute
{
    public InstalledDataFactAttribute(string folder)
    {
        if (!Directory.Exists(folder))
            Skip = $"{folder} is not installed on this machine.";
    }
}
