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
}
