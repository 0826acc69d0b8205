using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace GanService.Tests.Browser;

/// <summary>The job list's pages, and the job page's actions on a finished job: continue, export and delete.</summary>
public sealed partial class DashboardTests
{
    [ChromiumFact]
    public async Task A_finished_job_is_continued_and_then_deleted_from_its_page()
    {
        var client = (await fixture.HostAsync(postgres)).Client;
        var (page, watch) = await fixture.PageAsync(postgres);
        var id = await DashboardFixture.SubmitAsync(client, "to continue", steps: 10, checkpointEvery: 5);
        await GanServiceFactory.WaitForStatusAsync(client, id, Jobs.JobStatus.Succeeded);
        await page.GotoAsync($"/#/jobs/{id}");
        await page.WaitForSelectorAsync("#view[data-ready]");

        await page.GetByLabel("Steps to train further").FillAsync("5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue training" }).ClickAsync();
        await page.Locator(".page-head .step", new() { HasText = "step 15 / 15" }).WaitForAsync();
        await page.Locator(".page-head .badge", new() { HasText = "Succeeded" }).WaitForAsync();
        Assert.Equal(15, (await GanServiceFactory.GetJobAsync(client, id)).Step);

        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete job" }).ClickAsync();
        await page.WaitForURLAsync("**/#/jobs");
        await page.WaitForSelectorAsync("#view[data-ready]");
        Assert.Equal(0, await page.Locator($"tr[data-id='{id}']").CountAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{id}")).StatusCode);
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task Older_jobs_load_a_page_at_a_time_until_the_list_holds_them_all()
    {
        var client = (await fixture.HostAsync(postgres)).Client;
        await fixture.TrainedJobAsync(postgres);
        // Finished before the page opens: a job's live events would add it to the list whatever its page.
        for (int i = 0; i < 3; i++)
            await GanServiceFactory.WaitForStatusAsync(
                client,
                await DashboardFixture.SubmitAsync(client, $"page filler {i}", steps: 2, checkpointEvery: 2),
                Jobs.JobStatus.Succeeded
            );
        var listed = await client.GetFromJsonAsync<JsonElement>("/api/jobs?pageSize=1");
        int total = listed.GetProperty("total").GetInt32();
        var (page, watch) = await fixture.PageAsync(postgres);
        // The real API, asked for pages of 2 rather than 100, so that a few jobs make several pages.
        await page.RouteAsync("**/api/jobs?*", route =>
            route.ContinueAsync(new() { Url = route.Request.Url.Replace("pageSize=100", "pageSize=2") })
        );

        await page.GotoAsync("/#/jobs");
        await page.WaitForSelectorAsync("#view[data-ready]");
        var rows = page.Locator("table.jobs tbody tr");
        Assert.Equal(2, await rows.CountAsync());
        var older = page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Show older jobs") });
        for (int shown = 2; shown < total; shown = Math.Min(total, shown + 2))
        {
            Assert.Equal($"Show older jobs ({total - shown} more)", await older.InnerTextAsync());
            await older.ClickAsync();
            await page.WaitForFunctionAsync(
                "n => document.querySelectorAll('table.jobs tbody tr').length === n",
                Math.Min(total, shown + 2)
            );
        }

        Assert.True(await older.IsHiddenAsync());
        var ids = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)");
        Assert.Equal(total, ids.Distinct().Count());
        watch.AssertClean();
    }

    [ChromiumFact]
    public async Task Export_downloads_the_checkpoint_chosen_on_the_timeline()
    {
        var id = await fixture.TrainedJobAsync(postgres); // checkpoints at 20 and 40
        var (page, watch) = await fixture.PageAsync(postgres);
        await page.GotoAsync($"/#/jobs/{id}");
        await page.WaitForSelectorAsync("#view[data-ready]");
        await page.Locator(".timeline[data-count='2']").WaitForAsync();
        await page.GetByLabel("Checkpoint step").FillAsync("0");

        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.GetByRole(AriaRole.Button, new() { Name = "Export for PyTorch" }).ClickAsync()
        );

        Assert.Equal($"dcgan-{id}-step-20.zip", download.SuggestedFilename);
        Assert.Null(await download.FailureAsync());
        using var zip = ZipFile.OpenRead(await download.PathAsync());
        string[] expected = ["generator.safetensors", "config.json", "gan_generator.py", "README.md"];
        Assert.Subset(zip.Entries.Select(e => e.FullName).ToHashSet(), expected.ToHashSet());
        using var config = JsonDocument.Parse(zip.GetEntry("config.json")!.Open());
        Assert.Equal(20, config.RootElement.GetProperty("step").GetInt32());
        watch.AssertClean();
    }
}
