using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace GanService.Tests.Transfer;

/// <summary>Continuing and fine-tuning follow the owner rules: another owner's job is not there for you.</summary>
[Collection(PostgresCollection.Name)]
public sealed class TransferOwnerTests(PostgresServer postgres, BuiltOnce<AuthTests.Authenticated> hosts)
    : IClassFixture<BuiltOnce<AuthTests.Authenticated>>
{
    private Task<AuthTests.Authenticated> HostAsync() =>
        hosts.GetAsync(() => AuthTests.Authenticated.StartAsync(postgres, withAliceJob: true));

    [Fact]
    public async Task Another_owners_job_can_be_neither_continued_nor_started_from()
    {
        var host = await HostAsync();
        var alices = host.AliceJob!.Id;

        var continued = await host.Bob.PostAsJsonAsync($"/api/jobs/{alices}/continue", new { steps = 10 });
        await AuthTests.AssertProblemAsync(continued, HttpStatusCode.NotFound);

        var tuned = await host.Bob.PostAsJsonAsync(
            "/api/jobs",
            new
            {
                dataset = "synthetic",
                model = new { family = "dcgan" },
                initFrom = new { job = alices },
            }
        );
        var problem = JsonNode.Parse(await AuthTests.AssertProblemAsync(tuned, HttpStatusCode.BadRequest))!;
        Assert.Contains("no job", problem["errors"]!["initFrom.job"]![0]!.GetValue<string>());

        // Alice herself may do both.
        var hers = await host.Alice.PostAsJsonAsync($"/api/jobs/{alices}/continue", new { steps = 2 });
        Assert.Equal(HttpStatusCode.Accepted, hers.StatusCode);
    }
}
