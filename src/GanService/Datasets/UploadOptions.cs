using GanService.Gan.Data.Import;

namespace GanService.Datasets;

/// <summary>Reads and checks the text fields of a dataset upload, naming each bad field.</summary>
public static class UploadOptions
{
    public static (string Format, ImportOptions Options, Dictionary<string, string[]> Errors) Parse(
        DatasetUpload upload
    )
    {
        var errors = new Dictionary<string, string[]>();
        var f = upload.Fields;
        var format = f.GetValueOrDefault("format")?.ToLowerInvariant()
            ?? (
                upload.Has("images") ? UploadFormats.Idx
                : upload.FileName?.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) == true ? UploadFormats.Cifar10
                : UploadFormats.Archive
            );
        if (!UploadFormats.All.Contains(format))
            errors["format"] = [$"Unknown format '{format}'; use {string.Join(", ", UploadFormats.All)}."];

        int? Int(string field, int min, int max)
        {
            if (!f.TryGetValue(field, out var text) || text.Length == 0)
                return null;
            if (int.TryParse(text, out var value) && value >= min && value <= max)
                return value;
            errors[field] = [$"Must be a whole number from {min} to {max}."];
            return null;
        }
        var size = Int("imageSize", ImportOptions.MinSize, ImportOptions.MaxSize);
        var channels = Int("channels", 1, 3);
        if (channels == 2)
            errors["channels"] = ["Use 1 (grey) or 3 (RGB)."];
        var maxItems = Int("maxItems", 1, int.MaxValue);
        var fit = f.GetValueOrDefault("fit")?.ToLowerInvariant() ?? "crop";
        if (fit is not ("crop" or "pad"))
            errors["fit"] = ["Use crop or pad."];
        var skip = f.GetValueOrDefault("skipInvalid")?.ToLowerInvariant() ?? "false";
        if (skip is not ("true" or "false"))
            errors["skipInvalid"] = ["Use true or false."];
        var layout = f.GetValueOrDefault("layout")?.ToLowerInvariant() ?? ImportOptions.AutoLayout;
        if (layout is not (ImportOptions.AutoLayout or ImportOptions.SideBySide))
            errors["layout"] = ["Use auto or sidebyside."];
        if (f.GetValueOrDefault("name") is { Length: > 200 })
            errors["name"] = ["At most 200 characters."];
        else if (f.GetValueOrDefault("name") is { } name && !Hosting.InputRules.IsPlainText(name))
            errors["name"] = [Hosting.InputRules.PlainTextRule];
        var options = new ImportOptions(
            size,
            channels,
            fit == "pad" ? FitMode.Pad : FitMode.Crop,
            maxItems,
            skip == "true",
            layout
        );
        return (format, options, errors);
    }
}
