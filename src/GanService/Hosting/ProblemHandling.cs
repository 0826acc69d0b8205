using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Hosting;

/// <summary>
/// Every error is an RFC 9457 problem document. A body that is not valid JSON, or a field of the wrong type, is a
/// 400 naming the field (from the JSON path); anything unexpected is a 500 and logged as the bug it is.
/// </summary>
public sealed partial class ProblemHandling(IProblemDetailsService problems, ILogger<ProblemHandling> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (Persistence.DatabaseOutage.IsOutage(exception))
            return await Unavailable(http, exception);
        if (exception is not BadHttpRequestException bad)
            return false;
        var problem = new ValidationProblemDetails
        {
            Status = bad.StatusCode,
            Title = "The request could not be read.",
        };
        if (
            bad.InnerException is JsonException json
            && UnmappedMember().Match(json.Message) is { Success: true } unknown
        )
        {
            var name = unknown.Groups[1].Value;
            var field =
                Field(json.Path) is var at && at.EndsWith(name) ? at : $"{Field(json.Path)}.{name}".TrimStart('.');
            problem.Errors[field] = [$"Unknown field '{name}'. Fields are camelCase (e.g. batchSize); see the schema."];
            problem.Detail = $"The JSON body has a field the API does not read: '{field}'.";
        }
        else if (bad.InnerException is JsonException json2)
        {
            var field = Field(json2.Path);
            problem.Errors[field] = [$"Not valid here: {FirstLine(json2.Message)}"];
            problem.Detail = $"The JSON body is invalid at '{field}'.";
        }
        else if (BoundParameter().Match(bad.Message) is { Success: true } match)
        {
            problem.Errors[match.Groups[1].Value] = [bad.Message];
            problem.Detail = bad.Message;
        }
        else
            problem.Detail = bad.Message;
        logger.LogDebug(exception, "Rejected a malformed request.");
        http.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(
            new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = problem,
                Exception = exception,
            }
        );
    }

    /// <summary>
    /// PostgreSQL is down or restarting: a 503 the caller can retry, not a 500, and nothing was written.
    /// </summary>
    private async ValueTask<bool> Unavailable(HttpContext http, Exception exception)
    {
        bool busy = Persistence.DatabaseOutage.IsPoolExhausted(exception);
        logger.LogWarning(
            busy
                ? "No free database connection; answering 503: {Error}"
                : "PostgreSQL is unavailable; answering 503: {Error}",
            exception.Message
        );
        // Pooled connections died with the server; the next request should open fresh ones. A pool that is only
        // busy keeps its connections.
        if (!busy)
            Npgsql.NpgsqlConnection.ClearAllPools();
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = "5";
        return await problems.TryWriteAsync(
            new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = busy ? "The service is busy." : "The database is unavailable.",
                    Detail =
                        (
                            busy
                                ? "Every database connection this host may open is in use."
                                : "PostgreSQL does not answer right now."
                        ) + " Nothing was changed; retry after the Retry-After delay.",
                },
            }
        );
    }

    /// <summary>
    /// <c>$.model.imageSize</c> becomes <c>model.imageSize</c>; an unreadable document is <c>body</c>.
    /// </summary>
    private static string Field(string? path) =>
        path is null or "$" ? "body"
        : path.StartsWith("$.") ? path[2..]
        : path.TrimStart('$');

    /// <summary>Query and route binding failures read <c>Failed to bind parameter "int count" from "abc".</c></summary>
    [GeneratedRegex("""parameter "[^"]*?(\w+)" from""")]
    private static partial Regex BoundParameter();

    /// <summary>System.Text.Json's words for a member no type declares, with the member's name.</summary>
    [GeneratedRegex("""The JSON property '([^']*)' could not be mapped""")]
    private static partial Regex UnmappedMember();

    private static string FirstLine(string message) => message.Split('\n')[0].Split(" Path:")[0];
}

public static class ProblemHandlingExtensions
{
    public static WebApplicationBuilder AddProblemHandling(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        // Hand malformed bodies to the handler above instead of answering a bare 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<ProblemHandling>();
        return builder;
    }
}
