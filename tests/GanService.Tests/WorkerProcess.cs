using System.Diagnostics;
using System.Text;

namespace GanService.Tests;

/// <summary>
/// The real service as a separate OS process (the host built next to the tests), so that tests can kill it with
/// real signals: SIGKILL for a crash, SIGTERM for a graceful stop.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();

    private WorkerProcess(Process process) => this.process = process;

    public static WorkerProcess Start(
        string connectionString,
        IDictionary<string, string>? settings = null,
        string role = "worker"
    )
    {
        var start = new ProcessStartInfo("dotnet", Path.Combine(AppContext.BaseDirectory, "GanService.dll"))
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = start.Environment;
        env["ASPNETCORE_ENVIRONMENT"] = "Testing";
        env["ASPNETCORE_URLS"] = "http://127.0.0.1:0"; // several processes side by side
        env["ConnectionStrings__Postgres"] = connectionString;
        env["Gan__Role"] = role;
        env["Gan__TorchThreads"] = "1"; // the same in every process, so runs are bit-identical
        env["Gan__InvisibilityTimeout"] = "00:00:05";
        env["Gan__QueuePollInterval"] = "00:00:00.500";
        env["Gan__CancellationPollInterval"] = "00:00:00.250";
        env["Gan__DataDirectory"] = Path.Combine(Path.GetTempPath(), "ganservice-no-data");
        env["Gan__ExtraDataDirectories__0"] = "";
        // As in GanServiceFactory: jobs that are not about evaluations are not scored; the tests that are ask for it.
        env["Gan__Evaluation__ByDefault"] = "false";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            env[key.Replace(":", "__")] = value;
        var process = Process.Start(start)!;
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    public int Id => process.Id;
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;
    public string Log
    {
        get
        {
            lock (log)
                return log.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (log)
            log.AppendLine(line);
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill() => process.Kill();

    /// <summary>SIGTERM: what <c>docker stop</c> and systemd send first.</summary>
    public void Terminate() => Process.Start("kill", $"-TERM {process.Id}")!.WaitForExit();

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
