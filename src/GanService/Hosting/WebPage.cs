namespace GanService.Hosting;

/// <summary>
/// The service's own web page at <c>/</c>: static files from <c>wwwroot</c> (ES modules, CSS, no build step), served
/// by API hosts. The page calls the same API as any client, so it needs no endpoint of its own.
/// </summary>
public static class WebPage
{
    public static WebApplication UseWebPage(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles();
        return app;
    }
}
