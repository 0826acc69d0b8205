using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace GanService.Tests;

/// <summary>
/// A private PostgreSQL cluster for the test run (initdb + pg_ctl in a temp folder, fsync off), or the server named
/// by GANSERVICE_TEST_POSTGRES. Each test gets a fresh database; everything is dropped at the end.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string ExternalVariable = "GANSERVICE_TEST_POSTGRES";
    private string? directory;
    private int port;
    private string adminConnectionString = "";
    private readonly List<string> databases = [];

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(ExternalVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            adminConnectionString = external;
            return;
        }
        var bin = FindBinaries();
        directory = Path.Combine(Path.GetTempPath(), $"ganservice-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        port = FreePort();
        bool root = Environment.UserName == "root";
        if (root)
            await Run("chown", $"postgres:postgres {directory}");
        await Run(bin + "/initdb", $"-N -D {directory}/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8", root);
        await StartAsync();
        adminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false";
    }

    /// <summary>A new, empty database and its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"gan_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(adminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        lock (databases)
            databases.Add(name);
        // Every test database gets its own pool; closing idle connections within seconds keeps finished tests from
        // holding the cluster's connection slots until the end of the run.
        return new NpgsqlConnectionStringBuilder(adminConnectionString)
        {
            Database = name,
            Pooling = true,
            ConnectionIdleLifetime = 2,
            ConnectionPruningInterval = 1,
        }.ConnectionString;
    }

    /// <summary>Starts the private cluster (again, after <see cref="StopAsync"/>) on the same port.</summary>
    public Task StartAsync() =>
        Run(
            FindBinaries() + "/pg_ctl",
            $"-D {Private}/data -w -l {Private}/server.log -o \"-p {port} -k {Private} "
                + "-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300\" start",
            Environment.UserName == "root"
        );

    /// <summary>A real outage: the server shuts down and every connection to it breaks.</summary>
    public Task StopAsync() =>
        Run(FindBinaries() + "/pg_ctl", $"-D {Private}/data -m fast -w stop", Environment.UserName == "root");

    private string Private =>
        directory ?? throw new InvalidOperationException("Only a private cluster can be stopped and started.");

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (directory is null)
        {
            await using var connection = new NpgsqlConnection(adminConnectionString);
            await connection.OpenAsync();
            foreach (var name in databases)
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
                await drop.ExecuteNonQueryAsync();
            }
            return;
        }
        await Run(FindBinaries() + "/pg_ctl", $"-D {directory}/data -m immediate stop", Environment.UserName == "root");
        Directory.Delete(directory, recursive: true);
    }

    private static string FindBinaries()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory
                .GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        return candidates
            .Select(d => Path.Combine(d, "bin"))
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            ?? throw new InvalidOperationException(
                "PostgreSQL server binaries were not found under /usr/lib/postgresql: "
                    + $"install the 'postgresql' package or set {ExternalVariable}."
            );
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task Run(string file, string arguments, bool asPostgres = false)
    {
        // initdb refuses to run as root.
        var start = asPostgres
            ? new ProcessStartInfo("runuser", $"-u postgres -- {file} {arguments}")
            : new ProcessStartInfo(file, arguments);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{file} {arguments} exited {process.ExitCode}: {await output}{await error}"
            );
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
