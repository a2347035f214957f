using System.Security.Cryptography;
using System.Text;

namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// The state-store key layout, as pure functions. One key per record rather than chunks: a record is written once and
/// never rewritten, so per-record keys make every batch a set of inserts plus three kinds of small upserts, and a
/// verifier or replayer can page through <c>log/…</c> in order (zero-padded to 12 digits so keys sort by position).
/// <list type="bullet">
/// <item><c>log/{position:D12}</c> — a <see cref="LogRecord"/>.</item>
/// <item><c>head</c> — <see cref="LogHead"/>; ETag-fenced by the host.</item>
/// <item><c>stream/{streamId}</c> — <see cref="StreamHead"/>.</item>
/// <item><c>dedup/{sha256(eventId) hex}</c> — <see cref="DedupEntry"/>. The index is kept for every event, not a
/// bounded window: the log is the system of record, and a window would let a late redelivery (a dead-letter replay, a
/// producer's outbox retried after an outage) append an event twice, which nothing downstream could undo. Its size is
/// proportional to the log; archiving (<see cref="Retention.RetentionPolicy"/>) is where it can shrink. The id is
/// hashed so that any id fits a key (ids contain <c>/</c> and <c>:</c>, and Dapr reserves <c>||</c>).</item>
/// </list>
/// All of a batch's writes go in one state transaction (<see cref="AppendPlan.Writes"/>).
/// </summary>
public static class LogKeys
{
    public const string Head = "head";

    public static string Record(long position) => $"log/{position:D12}";

    public static string Stream(string streamId) => "stream/" + streamId;

    public static string Dedup(string eventId) =>
        "dedup/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId)));
}
