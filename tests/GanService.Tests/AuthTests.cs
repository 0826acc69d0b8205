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
public sealed class AuthTests(PostgresServer postgres, BuiltOnce<AuthTests.Authenticated> hosts)
    : IClassFixture<BuiltOnce<AuthTests.Authenticated>>
{
    public const string AdminKey = "test-admin-key-0123456789abcdef0123456789";

    public static Dictionary<string, string?> AuthOn(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gan:Auth:Enabled"] = "true",
            ["Gan:Auth:AdminKey"] = AdminKey,
        };
        foreach (var (key, value) in more)
            settings[key] = value;
        return settings;
    }

    public static HttpClient As(GanServiceFactory service, string? key)
    {
        var client = service.CreateClient();
        if (key is not null)
            client.DefaultRequestHeaders.Add(ApiKeyAuthentication.Header, key);
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

    /// <summary>
    /// A host with authentication on, shared by the class's facts: its admin, alice, bob, a caller without a key and,
    /// on the host for the owners' facts, a job of alice's. Facts that make keys give them owners of their own.
    /// </summary>
    public sealed record Authenticated(
        string Database,
        GanServiceFactory Service,
        HttpClient Admin,
        HttpClient Alice,
        HttpClient Bob,
        HttpClient Anonymous,
        JobResponse? AliceJob
    ) : IAsyncDisposable
    {
        /// <summary>
        /// Trains alice's job at once: Hangfire logs through the newest host in the process, so a host that first
        /// submits after another host has come and gone would find that host's loggers disposed.
        /// </summary>
        public static async Task<Authenticated> StartAsync(PostgresServer postgres, bool withAliceJob)
        {
            var database = await postgres.CreateDatabaseAsync();
            var service = new GanServiceFactory(database, settings: AuthOn());
            var admin = As(service, AdminKey);
            var alice = As(service, await CreateKeyAsync(admin, "alice"));
            var bob = As(service, await CreateKeyAsync(admin, "bob"));
            JobResponse? job = null;
            if (withAliceJob)
            {
                job = await service.SubmitAsync(alice, TestData.SyntheticJob(steps: 20, checkpointEvery: 10));
                await GanServiceFactory.WaitForStatusAsync(alice, job.Id, JobStatus.Succeeded);
            }
            return new Authenticated(database, service, admin, alice, bob, As(service, null), job);
        }

        public async ValueTask DisposeAsync() => await Service.DisposeAsync();
    }

    private Task<Authenticated> OwnersAsync() =>
        hosts.GetAsync("owners", () => Authenticated.StartAsync(postgres, withAliceJob: true));

    /// <summary>A host of its own for the event-stream fact, which adds a job the owners' fact would count.</summary>
    private Task<Authenticated> EventsAsync() =>
        hosts.GetAsync("events", () => Authenticated.StartAsync(postgres, withAliceJob: true));

    private Task<Authenticated> KeysAsync() =>
        hosts.GetAsync("keys", () => Authenticated.StartAsync(postgres, withAliceJob: false));

    [Fact]
    public async Task Owners_see_only_their_own_jobs()
    {
        var host = await OwnersAsync();
        var (admin, alice, bob, anonymous) = (host.Admin, host.Alice, host.Bob, host.Anonymous);
        var job = host.AliceJob!;
        Assert.Equal("alice", job.Owner);
        var samples = $"/api/generators/{job.Id}/samples.png?count=4&seed=3";

        foreach (
            var path in new[]
            {
                $"/api/jobs/{job.Id}",
                $"/api/jobs/{job.Id}/metrics",
                $"/api/jobs/{job.Id}/checkpoints",
                samples,
            }
        )
            await AssertProblemAsync(await bob.GetAsync(path), HttpStatusCode.NotFound);
        await AssertProblemAsync(await bob.PostAsync($"/api/jobs/{job.Id}/cancel", null), HttpStatusCode.NotFound);
        Assert.Equal(
            0,
            (await bob.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total
        );
        Assert.Equal(
            1,
            (await alice.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total
        );
        Assert.Equal(
            1,
            (await admin.GetFromJsonAsync<PagedList<JobResponse>>("/api/jobs", GanServiceFactory.Json))!.Total
        );
        await AssertProblemAsync(await anonymous.GetAsync(samples), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_public_generator_serves_its_images_to_anyone_but_nothing_more()
    {
        // Public: a browser without a key (and any other owner) may fetch the images, and nothing else.
        var host = await OwnersAsync();
        var (alice, bob, anonymous) = (host.Alice, host.Bob, host.Anonymous);
        var job = host.AliceJob!;
        var samples = $"/api/generators/{job.Id}/samples.png?count=4&seed=3";
        var published = await alice.PutAsJsonAsync($"/api/jobs/{job.Id}/visibility", new { @public = true });
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        var png = await anonymous.GetAsync(samples);
        Assert.Equal(HttpStatusCode.OK, png.StatusCode);
        TestData.DecodePng(await png.Content.ReadAsByteArrayAsync()).Dispose();
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync(samples)).StatusCode);
        await AssertProblemAsync(await anonymous.GetAsync($"/api/jobs/{job.Id}"), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await bob.GetAsync($"/api/jobs/{job.Id}"), HttpStatusCode.NotFound);
        var bundle = await bob.GetAsync($"/api/jobs/{job.Id}/checkpoints/20/bundle.zip");
        await AssertProblemAsync(bundle, HttpStatusCode.NotFound);
        await alice.PutAsJsonAsync($"/api/jobs/{job.Id}/visibility", new { @public = false });
        await AssertProblemAsync(await anonymous.GetAsync(samples + "&x=1"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Owners_see_only_their_own_datasets()
    {
        // The same upload is a separate dataset per owner, invisible (and unusable) to the other.
        var host = await OwnersAsync();
        var (alice, bob) = (host.Alice, host.Bob);
        var zip = UploadFiles.Zip(
            ("a.png", UploadFiles.Png(8, 8, new Rgb24(255, 0, 0))),
            ("b.png", UploadFiles.Png(8, 8, new Rgb24(0, 0, 255)))
        );
        var aliceSet = await DatasetUploadTests.Upload(alice, zip, "set.zip");
        var bobSet = await DatasetUploadTests.Upload(bob, zip, "set.zip");
        Assert.NotEqual(aliceSet.Id, bobSet.Id);
        await AssertProblemAsync(await bob.GetAsync($"/api/datasets/{aliceSet.Id}"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await bob.DeleteAsync($"/api/datasets/{aliceSet.Id}"), HttpStatusCode.NotFound);
        var borrowed = await bob.PostAsJsonAsync(
            "/api/jobs",
            new { dataset = aliceSet.Id, model = new { family = "dcgan" } }
        );
        Assert.Contains("\"dataset\"", await AssertProblemAsync(borrowed, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Keys_are_required()
    {
        var service = (await KeysAsync()).Service;
        var missing = await As(service, null).GetAsync("/api/jobs");
        Assert.Contains("X-Api-Key", await AssertProblemAsync(missing, HttpStatusCode.Unauthorized));
        Assert.Contains("ApiKey", missing.Headers.WwwAuthenticate.ToString());
        var unknown = await As(service, "gsk_not-a-real-key").GetAsync("/api/jobs");
        await AssertProblemAsync(unknown, HttpStatusCode.Unauthorized);
        var anonymousKey = await As(service, null).PostAsJsonAsync("/api/keys", new { owner = "mallory", name = "x" });
        await AssertProblemAsync(anonymousKey, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Keys_are_managed_by_the_admin_only()
    {
        var host = await KeysAsync();
        var carol = As(host.Service, await CreateKeyAsync(host.Admin, "carol"));
        var me = (await carol.GetFromJsonAsync<CallerResponse>("/api/keys/current", GanServiceFactory.Json))!;
        Assert.Equal(new CallerResponse("carol", false, true), me);
        var more = await carol.PostAsJsonAsync("/api/keys", new { owner = "carol", name = "more" });
        await AssertProblemAsync(more, HttpStatusCode.Forbidden);
        await AssertProblemAsync(await carol.GetAsync("/api/keys"), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_key_needs_a_valid_owner_that_is_not_reserved()
    {
        var admin = (await KeysAsync()).Admin;
        var invalid = await admin.PostAsJsonAsync("/api/keys", new { owner = "no spaces allowed", name = "" });
        var errors = await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
        Assert.Contains("\"owner\"", errors);
        Assert.Contains("\"name\"", errors);
        // The admin key's owner and the keyless owner are reserved: a key for either would share their jobs.
        foreach (var reserved in new[] { "admin", "Local" })
            Assert.Contains(
                "reserved",
                await AssertProblemAsync(
                    await admin.PostAsJsonAsync("/api/keys", new { owner = reserved, name = "x" }),
                    HttpStatusCode.BadRequest
                )
            );
    }

    [Fact]
    public async Task Keys_are_stored_hashed()
    {
        // Only the hash is stored; listing never shows a secret.
        var host = await KeysAsync();
        var admin = host.Admin;
        var secret = await CreateKeyAsync(admin, "grace");
        var listed = (await admin.GetFromJsonAsync<List<KeyResponse>>("/api/keys", GanServiceFactory.Json))!;
        var row = Assert.Single(listed, k => k.Owner == "grace");
        Assert.Null(row.Key);
        Assert.Equal(secret[..12], row.Prefix);
        await using var connection = new NpgsqlConnection(host.Database);
        await connection.OpenAsync();
        await using var dump = new NpgsqlCommand(
            "SELECT row_to_json(k)::text FROM gan.api_keys k WHERE k.\"Owner\" = 'grace'",
            connection
        );
        var stored = (string)(await dump.ExecuteScalarAsync())!;
        Assert.DoesNotContain(secret, stored);
        Assert.Contains(ApiKeyStore.Hash(secret), stored);
    }

    [Fact]
    public async Task A_revoked_key_is_refused()
    {
        var host = await KeysAsync();
        var admin = host.Admin;
        var heidi = As(host.Service, await CreateKeyAsync(admin, "heidi"));
        var listed = (await admin.GetFromJsonAsync<List<KeyResponse>>("/api/keys", GanServiceFactory.Json))!;
        var row = listed.Single(k => k.Owner == "heidi");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/keys/{row.Id}")).StatusCode);
        await AssertProblemAsync(await heidi.GetAsync("/api/jobs"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_hangfire_dashboard_is_for_the_admin_only()
    {
        // The admin key as a basic-auth password, for browsers.
        var host = await KeysAsync();
        var (service, admin) = (host.Service, host.Admin);
        Assert.Equal(HttpStatusCode.Unauthorized, (await As(service, null).GetAsync("/hangfire")).StatusCode);
        var browser = service.CreateClient();
        var password = Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin:{AdminKey}"));
        browser.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", password);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/hangfire")).StatusCode);
        // A forged cross-site POST carries the browser's credentials but not the page's antiforgery token.
        var forged = await browser.PostAsync(
            "/hangfire/jobs/enqueued/delete",
            new FormUrlEncodedContent([new KeyValuePair<string, string>("jobs[]", "1")])
        );
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        var dave = As(service, await CreateKeyAsync(admin, "dave"));
        Assert.Equal(HttpStatusCode.Forbidden, (await dave.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task Without_authentication_every_caller_is_the_local_admin()
    {
        await using var service = new GanServiceFactory(await postgres.CreateDatabaseAsync());
        var me = (
            await service.CreateClient().GetFromJsonAsync<CallerResponse>("/api/keys/current", GanServiceFactory.Json)
        )!;
        Assert.Equal(new CallerResponse(ApiKeyAuthentication.LocalOwner, true, false), me);
    }

    [Fact]
    public async Task Event_streams_need_a_key_and_show_each_owner_only_their_jobs()
    {
        var host = await EventsAsync();
        var job = host.AliceJob!;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        request.Headers.Accept.ParseAdd("text/event-stream"); // as a browser's EventSource asks
        using var anonymous = await host.Anonymous.SendAsync(request);
        await AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await host.Bob.GetAsync($"/api/jobs/{job.Id}/events"), HttpStatusCode.NotFound);
        var own = await EventStream.ReadAsync(host.Alice, $"/api/jobs/{job.Id}/events", TimeSpan.FromMinutes(1));
        Assert.Equal(Jobs.JobStatus.Succeeded, own[^1].Data.Status);

        // The generator's description follows the sampling rule: its owner (or anyone once public), nobody else.
        await AssertProblemAsync(await host.Anonymous.GetAsync($"/api/generators/{job.Id}"), HttpStatusCode.NotFound);
        var generator = await host.Alice.GetFromJsonAsync<GanService.Generators.GeneratorResponse>(
            $"/api/generators/{job.Id}"
        );
        Assert.Equal(("dcgan", own[^1].Data.Job!.Step, false), (generator!.Family, generator.Step, generator.Public));

        // A new owner's stream, replayed from the start: alice's events are stored before hers, and she sees only
        // her own.
        using var carol = As(host.Service, await CreateKeyAsync(host.Admin, "carol"));
        var reading = EventStream.ReadAsync(
            carol,
            "/api/events",
            TimeSpan.FromMinutes(1),
            lastEventId: "0",
            enough: e => e.Count == 1
        );
        var carols = await host.Service.SubmitAsync(carol, TestData.SyntheticJob(steps: 2, checkpointEvery: 2));
        Assert.Equal(carols.Id, (await reading)[0].Data.JobId);
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
