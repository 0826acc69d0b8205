using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace GanService.Tests.Browser;

/// <summary>
/// A public generator's explorer URL, shared with someone who has no key, works on a host with keys on: the page
/// asks for no key and shows the images from their plain API URLs.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PublicExplorerTests(PostgresServer postgres, DashboardFixture fixture)
    : IClassFixture<DashboardFixture>
{
    [ChromiumFact]
    public async Task A_public_generators_explorer_url_works_without_a_key()
    {
        var address = await fixture.KeyedHostAsync(postgres, role: "all");
        using var admin = new HttpClient { BaseAddress = address };
        admin.DefaultRequestHeaders.Add("X-Api-Key", DashboardFixture.AdminKey);
        var id = await DashboardFixture.SubmitAsync(admin, "shared", steps: 20, checkpointEvery: 10);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (
            (await admin.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}")).GetProperty("status").GetString()
                is not "Succeeded"
        )
        {
            Assert.True(DateTime.UtcNow < deadline, "the shared job did not finish in time");
            await Task.Delay(250);
        }
        using var visible = await admin.PutAsJsonAsync($"/api/jobs/{id}/visibility", new { @public = true });
        visible.EnsureSuccessStatusCode();

        var (page, watch) = await fixture.PageAsync(postgres, address: address);
        await page.GotoAsync($"/#/explore/{id}");
        var samples = page.GetByRole(AriaRole.Img, new() { Name = "Generated samples" });
        await samples.WaitForAsync();
        await page.WaitForFunctionAsync("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)");
        Assert.StartsWith(
            $"{address}api/generators/{id}/samples.png",
            await samples.EvaluateAsync<string>("i => i.src")
        );
        Assert.False(await page.Locator("#key-dialog").IsVisibleAsync(), "the page asked a visitor for a key");
        watch.AssertClean();
    }
}
