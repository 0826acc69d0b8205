using System.Diagnostics;

namespace GanService.Testing;

/// <summary>
/// Runs a Python script under python3 with PyTorch (Debian's python3-torch, which CI installs), for the tests that
/// check an exported generator in PyTorch. A missing interpreter or torch fails the test: it is never skipped.
/// </summary>
public static class PythonTorch
{
    /// <summary>
    /// The system's interpreter, where the distribution's torch is installed, rather than whichever python3 a
    /// version manager puts first on the PATH.
    /// </summary>
    public static string Interpreter => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>The script's standard output; a non-zero exit fails with its standard error.</summary>
    public static string Run(string script, params string[] arguments) => RunIn(null, script, arguments);

    /// <summary>As <see cref="Run"/>, in <paramref name="folder"/> (null: this process's own).</summary>
    public static string RunIn(string? folder, string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            WorkingDirectory = folder ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // One thread: the checks are tiny, and the test machine's cores are shared with the test host.
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException("python3 could not be started.");
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"python3 {script} exited with {process.ExitCode} (python3 with torch is needed: apt-get install "
                    + $"python3-torch):\n{error.Result}"
            );
        return output;
    }
}
