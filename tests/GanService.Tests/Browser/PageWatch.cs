using Microsoft.Playwright;

namespace GanService.Tests.Browser;

/// <summary>
/// Everything a page should not do: console errors, uncaught exceptions, failed requests and answers of 400 or more
/// that the test did not announce with <see cref="Expect"/>. <see cref="AssertClean"/> fails the test on any.
/// </summary>
internal sealed class PageWatch
{
    private readonly List<string> problems = [];
    private readonly List<(string Path, int Status)> expected = [];

    public PageWatch(IPage page)
    {
        page.Console += (_, message) =>
        {
            // Chromium also logs an expected 4xx as "Failed to load resource"; the response check judges those.
            if (message.Type == "error" && !(message.Text.StartsWith("Failed to load resource") && IsExpected(message)))
                Add($"console error: {message.Text} ({message.Location})");
        };
        page.PageError += (_, error) => Add($"uncaught: {error}");
        page.RequestFailed += (_, request) =>
        {
            // Leaving a page closes its event streams on purpose.
            if (!(request.Failure == "net::ERR_ABORTED" && request.Url.Contains("/events")))
                Add($"request failed: {request.Method} {request.Url}: {request.Failure}");
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400 && !IsExpected(response.Url, response.Status))
                Add($"answer {response.Status}: {response.Request.Method} {response.Url}");
        };
    }

    /// <summary>Announces an error answer the test provokes, by a part of its path and its status.</summary>
    public void Expect(string path, int status)
    {
        lock (problems)
            expected.Add((path, status));
    }

    public void AssertClean()
    {
        lock (problems)
            Assert.True(problems.Count == 0, "The page misbehaved:\n" + string.Join("\n", problems));
    }

    private bool IsExpected(IConsoleMessage message)
    {
        lock (problems)
            return expected.Any(e => message.Location.Contains(e.Path) && message.Text.Contains($"{e.Status}"));
    }

    private bool IsExpected(string url, int status)
    {
        lock (problems)
            return expected.Any(e => url.Contains(e.Path) && status == e.Status);
    }

    private void Add(string problem)
    {
        lock (problems)
            problems.Add(problem);
    }
}
