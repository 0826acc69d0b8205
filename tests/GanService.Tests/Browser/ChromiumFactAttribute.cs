namespace GanService.Tests.Browser;

/// <summary>
/// A fact that needs Debian's chromium (Playwright cannot download browsers here): it skips where the package is
/// absent; CI installs it (<c>.ci/run</c>).
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Executable = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Executable))
            Skip = $"{Executable} is not installed (apt-get install chromium); the dashboard tests need a browser.";
    }
}
