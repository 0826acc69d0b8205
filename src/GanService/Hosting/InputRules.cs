using Microsoft.EntityFrameworkCore;

namespace GanService.Hosting;

/// <summary>Checks shared by every endpoint that takes free text or pages.</summary>
public static class InputRules
{
    public const int MaxPageSize = 100,
        MaxPage = 1_000_000;

    /// <summary>
    /// Text PostgreSQL can store and a log or terminal shows safely: no control characters (a NUL is refused by
    /// PostgreSQL's text and jsonb), no unpaired UTF-16 surrogates (not encodable as UTF-8).
    /// </summary>
    public static bool IsPlainText(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i]))
                return false;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(text[i]))
                return false;
        }
        return true;
    }

    public const string PlainTextRule = "Control characters and unpaired surrogates are not allowed.";

    /// <summary>Page numbers and sizes; the product (rows to skip) stays far inside an int.</summary>
    public static void CheckPage(
        int page,
        int pageSize,
        IDictionary<string, string[]> errors,
        int maxPageSize = MaxPageSize
    )
    {
        if (page is < 1 or > MaxPage)
            errors["page"] = [$"Must be between 1 and {MaxPage}."];
        if (pageSize < 1 || pageSize > maxPageSize)
            errors["pageSize"] = [$"Must be between 1 and {maxPageSize}."];
    }

    /// <summary>The 400 for a bad page or page size, or null.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ValidationProblem? PageProblem(
        int page,
        int pageSize,
        int maxPageSize
    )
    {
        var errors = new Dictionary<string, string[]>();
        CheckPage(page, pageSize, errors, maxPageSize);
        return errors.Count > 0 ? TypedResults.ValidationProblem(errors) : null;
    }

    /// <summary>
    /// Paging for lists answered as a plain JSON array (their shape from before they were paged): the total in
    /// <c>X-Total-Count</c> and the next page in a <c>Link</c> header (RFC 8288), only where there is one.
    /// </summary>
    public static void WritePageHeaders(HttpContext http, int page, int pageSize, long total)
    {
        http.Response.Headers["X-Total-Count"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if ((long)page * pageSize < total)
            http.Response.Headers.Link = $"<{http.Request.Path}?page={page + 1}&pageSize={pageSize}>; rel=\"next\"";
    }

    /// <summary>One page of an ordered query, with the headers of <see cref="WritePageHeaders"/>.</summary>
    public static async Task<List<T>> PageAsync<T>(
        this IQueryable<T> ordered,
        HttpContext http,
        int page,
        int pageSize,
        CancellationToken ct
    )
    {
        WritePageHeaders(http, page, pageSize, await ordered.CountAsync(ct));
        return await ordered.Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
    }
}
