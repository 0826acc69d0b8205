using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace GanService.Tests.Browser;

/// <summary>Two runs' curves on one page, chosen by checkbox, their URL shareable.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CompareTests(PostgresServer postgres, DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [ChromiumFact]
    public async Task Two_runs_chosen_by_checkbox_are_overlaid_on_the_loss_charts()
    {
        var first = await fixture.TrainedJobAsync(postgres); // 40 steps: metric rows at 10, 20, 30, 40
        var client = (await fixture.HostAsync(postgres)).Client;
        var second = await DashboardFixture.SubmitAsync(client, "longer", steps: 60, checkpointEvery: 30);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (
            (await client.GetFromJsonAsync<JsonElement>($"/api/jobs/{second}")).GetProperty("status").GetString()
                is not "Succeeded"
        )
        {
            Assert.True(DateTime.UtcNow < deadline, "the second job did not finish in time");
            await Task.Delay(250);
        }

        var (page, watch) = await fixture.PageAsync(postgres);
        await page.GotoAsync("/#/compare");
        await page.GetByLabel("explored (dcgan, Succeeded)").CheckAsync();
        await page.GetByLabel("longer (dcgan, Succeeded)").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();

        // The chosen jobs go into the URL (newest first, as listed), so the comparison can be shared.
        await page.WaitForFunctionAsync($"() => location.hash === '#/compare/{second},{first}'");
        var losses = page.GetByRole(AriaRole.Img, new() { Name = "Generator losses of the compared jobs" });
        // The steps of both runs on one axis: 10 to 40 from both, 50 and 60 from the longer one.
        await page.WaitForFunctionAsync(
            "() => document.querySelector('canvas[aria-label^=\"Generator losses\"]')?.dataset.points === '6'"
        );
        Assert.True(await losses.IsVisibleAsync());
        Assert.Equal(["longer", "explored"], await page.Locator("ul.compared li").AllInnerTextsAsync());
        watch.AssertClean();
    }
}
