namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// The port the appender reads before planning a batch: the dedup index and the stream heads. The host answers it from
/// one bulk get of <see cref="LogKeys.Dedup"/> and <see cref="LogKeys.Stream"/> for the batch's ids and streams
/// (<see cref="AppendPlanner.KeysToRead"/>); <see cref="EventLog"/> answers it from memory.
/// </summary>
public interface ILogIndex
{
    DedupEntry? FindEvent(string eventId);

    StreamHead? FindStream(string streamId);
}
