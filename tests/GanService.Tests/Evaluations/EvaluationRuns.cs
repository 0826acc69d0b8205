using System.Net;
using System.Net.Http.Json;
using GanService.Evaluations;

namespace GanService.Tests;

/// <summary>What the evaluation tests ask the API, and how they wait for an evaluation to finish.</summary>
public static class EvaluationRuns
{
    public static async Task<List<EvaluationResponse>> ListAsync(HttpClient client, Guid jobId) =>
        (
            await client.GetFromJsonAsync<List<EvaluationResponse>>(
                $"/api/jobs/{jobId}/evaluations",
                GanServiceFactory.Json
            )
        )!;

    /// <summary>
    /// Polls an evaluation's URL until it has finished, failing with its last state after the timeout.
    /// </summary>
    public static async Task<EvaluationResponse> WaitAsync(HttpClient client, string url, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var row = (await response.Content.ReadFromJsonAsync<EvaluationResponse>(GanServiceFactory.Json))!;
            if (row.Status is EvaluationStatus.Succeeded or EvaluationStatus.Failed)
                return row;
            Assert.True(DateTime.UtcNow < deadline, $"The evaluation at {url} is still {row.Status}.");
            await Task.Delay(200);
        }
    }

    public static async Task<EvaluationResponse> ReadAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<EvaluationResponse>(GanServiceFactory.Json))!;
}
