using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using GanService.Auth;
using GanService.Datasets;
using GanService.Jobs;
using Npgsql;
using SixLabors.ImageSharp.PixelFormats;

namespace GanService.Tests;

/// <summary>API keys, owners, public generators and the admin-only dashboard, with authentication on.</summary>
[Collection(PostgresCollection.Name)]
public sealed class AuthTests(PostgresServer postgres)
{
    public const string AdminKey = "test-admin-key-0123456789abcdef0123456789";

    public static Dictionary<string, string?> AuthOn(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["Gan:Auth:Enabled"] = "true", ["Gan:Auth:AdminKey"] = AdminKey };
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    public static HttpClient As(GanServiceFactory service, string? key)
    {
        var client = service.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Add(ApiKeyAuthentication.Header, key);
        return client;
    }

    public static async Task<string> CreateKeyAsync(HttpClient admin, string owner)
    {
        var response = await admin.PostAsJsonAsync("/api/keys", new { owner, name = $"{owner}'s script" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var key = (await response.Content.ReadFromJsonAsync<KeyResponse>(GanServiceFactory.Json))!;
        Assert.StartsWith(ApiKeyStore.KeyPrefix, key.Key);
        return key.Key!;
    }

    [Fact]
    public async Task Owners_see_only_their_own_jobs_and_datasets_and_a_public_generator_serves_anyone()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync(), settings: AuthOn());
        var admin = As(service, AdminKey);
        var alice = As(service, await CreateKeyAsync(admin, "alice"));
        var bob = As(service, await CreateKeyAsync(admin, "bob"));
        var anonymous = As(service, null);

        var job = await service.SubmitAsync(alice, TestData.SyntheticJob(steps: 20, checkpointEvery: 10));
        await GanServiceFactory.WaitForStatusAsync(alice, job.Id, JobStatus.Succeeded);
        Assert.Equal("alice", job.Owner);
        var samples = $"/api/generators/{job.Id}/samples.png?count=4&seed=3";

        foreach (var path in new[] { $"/api/jobs/{job.Id}", $"/api/jobs/{job.Id}/metrics", $"/api/jobs/{job.Id}/checkpoints", samples })
            await AssertProblemAsync(await bob.GetAsync(path), HttpStatusCode.NotFound);
        await AssertProblemAsync(await bob.PostAsync($"/api/jobs/{job.Id}/cancel", null), HttpStatusCode.NotFound);
        Assert.Equal(0, (await bob.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total);
        Assert.Equal(1, (await alice.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total);
        Assert.Equal(1, (await admin.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total);
        await AssertProblemAsync(await anonymous.GetAsync(samples), HttpStatusCode.NotFound);

        // Public: a browser without a key (and any other owner) may fetch the images, and nothing else.
        var published = await alice.PutAsJsonAsync($"/api/jobs/{job.Id}/visibility", new { @public = true });
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        var png = await anonymous.GetAsync(samples);
        Assert.Equal(HttpStatusCode.OK, png.StatusCode);
        TestData.DecodePng(await png.Content.ReadAsByteArrayAsync()).Dispose();
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync(samples)).StatusCode);
        await AssertProblemAsync(await anonymous.GetAsync($"/api/jobs/{job.Id}"), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await bob.GetAsync($"/api/jobs/{job.Id}"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await bob.GetAsync($"/api/jobs/{job.Id}/checkpoints/20/bundle.zip"), HttpStatusCode.NotFound);
        await alice.PutAsJsonAsync($"/api/jobs/{job.Id}/visibility", new { @public = false });
        await AssertProblemAsync(await anonymous.GetAsync(samples + "&x=1"), HttpStatusCode.NotFound);

        // Datasets: the same upload is a separate dataset per owner, invisible (and unusable) to the other.
        var zip = UploadFiles.Zip(("a.png", UploadFiles.Png(8, 8, new Rgb24(255, 0, 0))), ("b.png", UploadFiles.Png(8, 8, new Rgb24(0, 0, 255))));
        var aliceSet = await DatasetUploadTests.Upload(alice, zip, "set.zip");
        var bobSet = await DatasetUploadTests.Upload(bob, zip, "set.zip");
        Assert.NotEqual(aliceSet.Id, bobSet.Id);
        await AssertProblemAsync(await bob.GetAsync($"/api/datasets/{aliceSet.Id}"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await bob.DeleteAsync($"/api/datasets/{aliceSet.Id}"), HttpStatusCode.NotFound);
        var borrowed = await bob.PostAsJsonAsync("/api/jobs", new { dataset = aliceSet.Id, model = new { family = "dcgan" } });
        Assert.Contains("\"dataset\"", await AssertProblemAsync(borrowed, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Keys_are_required_stored_hashed_managed_by_the_admin_only_and_revocable()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var service = new GanServiceFactory(database, settings: AuthOn());
        var admin = As(service, AdminKey);

        var missing = await As(service, null).GetAsync("/api/jobs");
        Assert.Contains("X-Api-Key", await AssertProblemAsync(missing, HttpStatusCode.Unauthorized));
        Assert.Contains("ApiKey", missing.Headers.WwwAuthenticate.ToString());
        await AssertProblemAsync(await As(service, "gsk_not-a-real-key").GetAsync("/api/jobs"), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await As(service, null).PostAsJsonAsync("/api/keys", new { owner = "mallory", name = "x" }), HttpStatusCode.Unauthorized);

        var secret = await CreateKeyAsync(admin, "carol");
        var carol = As(service, secret);
        var me = (await carol.GetFromJsonAsync<CallerResponse>("/api/keys/current", GanServiceFactory.Json))!;
        Assert.Equal(new CallerResponse("carol", false, true), me);
        await AssertProblemAsync(await carol.PostAsJsonAsync("/api/keys", new { owner = "carol", name = "more" }), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await carol.GetAsync("/api/keys"), HttpStatusCode.Forbidden);
        var invalid = await admin.PostAsJsonAsync("/api/keys", new { owner = "no spaces allowed", name = "" });
        var errors = await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
        Assert.Contains("\"owner\"", errors);
        Assert.Contains("\"name\"", errors);
        // The admin key's owner and the keyless owner are reserved: a key for either would share their jobs.
        foreach (var reserved in new[] { "admin", "Local" })
            Assert.Contains("reserved", await AssertProblemAsync(
                await admin.PostAsJsonAsync("/api/keys", new { owner = reserved, name = "x" }), HttpStatusCode.BadRequest));

        // Only the hash is stored; listing never shows a secret.
        var listed = (await admin.GetFromJsonAsync<List<KeyResponse>>("/api/keys", GanServiceFactory.Json))!;
        var row = Assert.Single(listed);
        Assert.Null(row.Key);
        Assert.Equal(secret[..12], row.Prefix);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var dump = new NpgsqlCommand("SELECT row_to_json(k)::text FROM gan.api_keys k", connection);
            var stored = (string)(await dump.ExecuteScalarAsync())!;
            Assert.DoesNotContain(secret, stored);
            Assert.Contains(ApiKeyStore.Hash(secret), stored);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/keys/{row.Id}")).StatusCode);
        await AssertProblemAsync(await carol.GetAsync("/api/jobs"), HttpStatusCode.Unauthorized);

        // The Hangfire dashboard: admin only (the admin key as a basic-auth password, for browsers).
        Assert.Equal(HttpStatusCode.Unauthorized, (await As(service, null).GetAsync("/hangfire")).StatusCode);
        var browser = service.CreateClient();
        browser.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin:{AdminKey}")));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/hangfire")).StatusCode);
        // A forged cross-site POST carries the browser's credentials but not the page's antiforgery token.
        var forged = await browser.PostAsync("/hangfire/jobs/enqueued/delete",
            new FormUrlEncodedContent([new KeyValuePair<string, string>("jobs[]", "1")]));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        var dave = As(service, await CreateKeyAsync(admin, "dave"));
        Assert.Equal(HttpStatusCode.Forbidden, (await dave.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task Without_authentication_every_caller_is_the_local_admin()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        var me = (await service.CreateClient().GetFromJsonAsync<CallerResponse>("/api/keys/current", GanServiceFactory.Json))!;
        Assert.Equal(new CallerResponse(ApiKeyAuthentication.LocalOwner, true, false), me);
    }

    /// <summary>Asserts the status and a problem document without internals; returns the body.</summary>
    public static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", body);
        return body;
    }
}
