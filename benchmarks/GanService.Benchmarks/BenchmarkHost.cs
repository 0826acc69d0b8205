using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;

namespace GanService.Benchmarks;

/// <summary>
/// The real service in this process, on the benchmark's database, quiet, with the given role and settings.
/// </summary>
internal sealed class BenchmarkHost(string connectionString, string role, params (string Key, string Value)[] settings)
    : WebApplicationFactory<Program>
{
    /// <summary>How the API writes its answers: web defaults, enums as strings.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSolutionRelativeContentRoot("src/GanService");
        builder.UseSetting("ConnectionStrings:Postgres", connectionString);
        builder.UseSetting("Gan:Role", role);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:Hangfire", "Warning");
        // Standard output is the report (and --json parses it): the host's warnings go to standard error.
        builder.UseSetting("Logging:Console:LogToStandardErrorThreshold", "Trace");
        foreach (var (key, value) in settings)
            builder.UseSetting(key, value);
    }
}
