using System.Diagnostics;

namespace GanService.Benchmarks;

/// <summary>
/// A worker host in a process of its own, started as docker-compose starts its workers (role, environment), so the
/// parts that need a deployed worker measure that and not this process, which has run everything before them.
/// <c>GANSERVICE_BENCH_WORKER</c> names a published host to run instead of this build's copy (benchmarks/run.sh
/// publishes one ReadyToRun, as the Docker image does).
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process process;

    private WorkerProcess(Process process) => this.process = process;

    public int Id => process.Id;

    public static WorkerProcess Start(string connectionString, params (string Key, string Value)[] settings)
    {
        var directory = Environment.GetEnvironmentVariable("GANSERVICE_BENCH_WORKER") is { Length: > 0 } published
            ? published
            : AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet", Path.Combine(directory, "GanService.dll"))
        {
            WorkingDirectory = directory,
            Environment =
            {
                ["ConnectionStrings__Postgres"] = connectionString,
                ["Gan__Role"] = "worker",
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["Logging__LogLevel__Default"] = "Warning",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__")] = value;
        UseWorkerEnvironment(start);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { }; // drained, so a chatty worker never blocks on a full pipe
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process);
    }

    /// <summary>
    /// docker-compose.yml's worker environment (the runtime's and glibc's settings), plus GANSERVICE_BENCH_WORKER_ENV
    /// for A/B runs of them, e.g. "DOTNET_TieredCompilation=0".
    /// </summary>
    public static void UseWorkerEnvironment(ProcessStartInfo start)
    {
        (string, string)[] compose = [("DOTNET_TieredPGO", "0"), ("MALLOC_ARENA_MAX", "1"), ("MALLOC_MMAP_MAX_", "0")];
        foreach (var (key, value) in compose)
            start.Environment[key] = value;
        foreach (
            var pair in (Environment.GetEnvironmentVariable("GANSERVICE_BENCH_WORKER_ENV") ?? "").Split(
                ' ',
                StringSplitOptions.RemoveEmptyEntries
            )
        )
            start.Environment[pair.Split('=', 2)[0]] = pair.Split('=', 2)[1];
    }

    /// <summary>Resident and peak resident memory (VmRSS, VmHWM) in MiB.</summary>
    public (double Resident, double Peak) MemoryMiB()
    {
        var status = File.ReadAllLines($"/proc/{process.Id}/status");
        double Field(string name) =>
            double.Parse(status.First(l => l.StartsWith(name)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])
            / 1024;
        return (Field("VmRSS:"), Field("VmHWM:"));
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
