using System.Text.Json.Serialization.Metadata;
using GanService.Gan.Families;
using GanService.Gan.Training;

namespace GanService.Jobs;

/// <summary>
/// A job's answer shows the model fields its family reads and no others: a dcgan's <c>model</c> carries no
/// <c>width</c> or <c>mappingLayers</c>, which would read as settings it trained with. Only HTTP answers are
/// shaped so; the stored recipe keeps every field.
/// </summary>
public static class FamilyFieldVisibility
{
    private static readonly Dictionary<string, string> ModelFields = new()
    {
        ["width"] = FamilyFields.WidthField,
        ["attentionResolution"] = FamilyFields.AttentionField,
        ["mappingLayers"] = FamilyFields.MappingField,
        ["styleMixing"] = FamilyFields.StyleMixingField,
    };

    /// <summary>A type-info modifier for the HTTP JSON options.</summary>
    public static void Modify(JsonTypeInfo info)
    {
        if (info.Type != typeof(ModelRecipe))
            return;
        foreach (var property in info.Properties)
            if (ModelFields.TryGetValue(property.Name, out var path))
                property.ShouldSerialize = (recipe, _) => Reads(((ModelRecipe)recipe).Family, path);
    }

    /// <summary>Whether <paramref name="family"/> reads the field at <paramref name="path"/>.</summary>
    public static bool Reads(string family, string path) => ModelFamily.TryFind(family)?.Fields.Contains(path) ?? true;
}
