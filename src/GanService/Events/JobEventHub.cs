using System.Collections.Concurrent;
using System.Threading.Channels;

namespace GanService.Events;

/// <summary>
/// The in-process fan-out from the host's one listening connection to its open streams. A stream subscribes to one
/// job, or to every job of one owner (null: all jobs, for the admin). A subscriber that falls more than
/// <see cref="Capacity"/> events behind is closed, and its client reconnects with <c>Last-Event-ID</c> and loses
/// nothing; a slow client never holds up the others.
/// </summary>
public sealed class JobEventHub
{
    public const int Capacity = 1000;

    private readonly ConcurrentDictionary<Subscription, byte> subscriptions = new();

    /// <summary>Open streams on this host.</summary>
    public int Count => subscriptions.Count;

    public Subscription Subscribe(Guid? jobId, string? owner, bool everyOwner)
    {
        var subscription = new Subscription(this, jobId, owner, everyOwner);
        subscriptions[subscription] = 0;
        return subscription;
    }

    public void Publish(JobEvent e, string? owner)
    {
        foreach (var subscription in subscriptions.Keys)
            if (subscription.Wants(e.JobId, owner) && !subscription.Channel.Writer.TryWrite(e))
                subscription.Channel.Writer.TryComplete(); // the stream ends; its client reconnects
    }

    /// <summary>One open stream's queue of live events; disposing it unsubscribes.</summary>
    public sealed class Subscription(JobEventHub hub, Guid? jobId, string? owner, bool everyOwner) : IDisposable
    {
        internal Channel<JobEvent> Channel { get; } =
            System.Threading.Channels.Channel.CreateBounded<JobEvent>(
                new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }
            );

        public ChannelReader<JobEvent> Events => Channel.Reader;

        /// <summary>Whether the stream wants an event of <paramref name="job"/>, whose owner is given.</summary>
        public bool Wants(Guid job, string? jobOwner) => jobId is { } id ? id == job : everyOwner || jobOwner == owner;

        public void Dispose()
        {
            hub.subscriptions.TryRemove(this, out _);
            Channel.Writer.TryComplete();
        }
    }
}
