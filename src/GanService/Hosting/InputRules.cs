namespace GanService.Hosting;

/// <summary>Checks shared by every endpoint that takes free text or pages.</summary>
public static class InputRules
{
    public const int MaxPageSize = 100, MaxPage = 1_000_000;

    /// <summary>
    /// Text PostgreSQL can store and a log or terminal shows safely: no control characters (a NUL is refused by
    /// PostgreSQL's text and jsonb), no unpaired UTF-16 surrogates (not encodable as UTF-8).
    /// </summary>
    public static bool IsPlainText(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i])) return false;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return false;
        }
        return true;
    }

    public const string PlainTextRule = "Control characters and unpaired surrogates are not allowed.";

    /// <summary>Page numbers and sizes; the product (rows to skip) stays far inside an int.</summary>
    public static void CheckPage(int page, int pageSize, IDictionary<string, string[]> errors)
    {
        if (page is < 1 or > MaxPage) errors["page"] = [$"Must be between 1 and {MaxPage}."];
        if (pageSize is < 1 or > MaxPageSize) errors["pageSize"] = [$"Must be between 1 and {MaxPageSize}."];
    }
}
