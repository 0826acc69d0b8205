namespace GanService.Testing;

/// <summary>
/// A class fixture for results that the first fact to ask for one builds, and the class's other facts share: a
/// network trained or a job run once can then answer several facts, each about one behaviour, for the time of one
/// run. A build that fails fails every fact that shares it. What was built is disposed with the class.
/// </summary>
public sealed class BuiltOnce<T> : IAsyncLifetime
    where T : class
{
    private readonly Dictionary<string, Task<T>> built = [];

    /// <summary>The result called <paramref name="name"/>, built on the first call.</summary>
    public Task<T> GetAsync(string name, Func<Task<T>> build)
    {
        lock (built)
        {
            if (!built.TryGetValue(name, out var result))
                built[name] = result = build();
            return result;
        }
    }

    public Task<T> GetAsync(Func<Task<T>> build) => GetAsync("", build);

    public T Get(Func<T> build) => GetAsync("", () => Build(build)).GetAwaiter().GetResult();

    private static Task<T> Build(Func<T> build)
    {
        try
        {
            return Task.FromResult(build());
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var result in built.Values.Where(r => r.IsCompletedSuccessfully).Select(r => r.Result))
        {
            if (result is IAsyncDisposable asyncDisposable)
                await asyncDisposable.DisposeAsync();
            else if (result is IDisposable disposable)
                disposable.Dispose();
        }
    }
}
