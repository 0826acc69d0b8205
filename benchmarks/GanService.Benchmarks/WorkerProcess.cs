using System.Diagnostics;

namespace GanService.Benchmarks;

/// <summary>
/// A worker host in a process of its own, started as docker-compose starts its workers (role, environment), so the
/// parts that need a deployed worker measure that and not this process, which has run everything before them.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process process;

    private WorkerProcess(Process process) => this.process = process;

    public static WorkerProcess Start(string connectionString)
    {
        var process = Process.Start(new ProcessStartInfo("dotnet", Path.Combine(AppContext.BaseDirectory, "GanService.dll"))
        {
            WorkingDirectory = AppContext.BaseDirectory,
            Environment =
            {
                ["ConnectionStrings__Postgres"] = connectionString, ["Gan__Role"] = "worker", ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["Logging__LogLevel__Default"] = "Warning",
                // docker-compose.yml's worker environment.
                ["DOTNET_TieredPGO"] = "0", ["MALLOC_ARENA_MAX"] = "1", ["MALLOC_MMAP_MAX_"] = "0",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { }; // drained, so a chatty worker never blocks on a full pipe
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process);
    }

    /// <summary>Resident and peak resident memory (VmRSS, VmHWM) in MiB.</summary>
    public (double Resident, double Peak) MemoryMiB()
    {
        var status = File.ReadAllLines($"/proc/{process.Id}/status");
        double Field(string name) => double.Parse(status.First(l => l.StartsWith(name)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return (Field("VmRSS:"), Field("VmHWM:"));
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
