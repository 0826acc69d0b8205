using GanService.Auth;
using Microsoft.Extensions.Configuration;

namespace GanService.Tests;

/// <summary>
/// Without API keys every caller is the admin, so the API refuses to listen beyond loopback unless the operator says
/// the network in front of it is private; the shipped compose file publishes on loopback and says so.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OpenNetworkTests(PostgresServer postgres)
{
    [Fact]
    public async Task An_api_without_keys_refuses_to_start_on_every_interface()
    {
        await using var host = WorkerProcess.Start(
            await postgres.CreateDatabaseAsync(),
            new Dictionary<string, string> { ["ASPNETCORE_URLS"] = "http://0.0.0.0:0" },
            role: "api"
        );
        Assert.True(await host.WaitForExitAsync(TimeSpan.FromSeconds(60)), host.Log);
        Assert.NotEqual(0, host.ExitCode);
        Assert.Contains("beyond loopback", host.Log);
    }

    [Fact]
    public async Task An_api_without_keys_starts_on_every_interface_when_the_network_is_declared_private()
    {
        await using var host = WorkerProcess.Start(
            await postgres.CreateDatabaseAsync(),
            new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = "http://0.0.0.0:0",
                ["Gan:Auth:AllowAnonymousNetwork"] = "true",
            },
            role: "api"
        );
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!host.Log.Contains("AUTHENTICATION IS OFF") && !host.HasExited && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.False(host.HasExited, host.Log);
        Assert.Contains("AUTHENTICATION IS OFF", host.Log);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", "")]
    [InlineData("http://localhost:5000;http://[::1]:5001", "")]
    [InlineData("http://+:8080", "http://+:8080")]
    [InlineData("http://127.0.0.1:1;http://192.168.1.5:2", "http://192.168.1.5:2")]
    [InlineData("http://*:80", "http://*:80")]
    public void Listen_addresses_beyond_loopback_are_found_in_the_urls_setting(string urls, string open)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = urls })
            .Build();
        Assert.Equal(open, string.Join(";", OpenNetworkGuard.NonLoopback(configuration)));
    }

    [Fact]
    public void The_http_ports_setting_binds_every_interface()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["http_ports"] = "8080" })
            .Build();
        Assert.Single(OpenNetworkGuard.NonLoopback(configuration));
        Assert.Empty(OpenNetworkGuard.NonLoopback(new ConfigurationBuilder().Build()));
    }
}
