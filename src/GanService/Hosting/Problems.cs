using Microsoft.AspNetCore.Http.HttpResults;

namespace GanService.Hosting;

/// <summary>RFC 9457 answers (application/problem+json) for the outcomes every feature shares.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status409Conflict);

    public static ProblemHttpResult JobNotFound(Guid id) => NotFound("No such job.", $"There is no job with id {id}.");

    /// <summary>A 400 naming the one field that is wrong, shaped like every other validation answer.</summary>
    public static ValidationProblem Invalid(string field, string message, string? title = null) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: title);

    /// <summary>
    /// A problem other than a 400 (a 409, a 413) that still names its field under <c>errors</c>, so that a client
    /// reads the field from the same place whatever the status.
    /// </summary>
    public static ProblemHttpResult Naming(int status, string title, string detail, string field, string message) =>
        TypedResults.Problem(
            title: title,
            detail: detail,
            statusCode: status,
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = new Dictionary<string, string[]> { [field] = [message] },
            }
        );
}
