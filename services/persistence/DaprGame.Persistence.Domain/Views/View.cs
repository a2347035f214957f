using System.Text.Json;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>
/// A read model folded from live event records in log order. Its state is plain data (sorted dictionaries of immutable
/// records), so a snapshot is a copy the host can serialise as it likes. Watermark and rollbacks are the
/// <see cref="ViewSet"/>'s business; a view only folds events.
/// </summary>
public abstract class View
{
    public abstract string Name { get; }

    /// <summary>Whether the view folds events of this CloudEvent type.</summary>
    public abstract bool Handles(string eventType);

    /// <summary>Folds one event; throws <see cref="FormatException"/> before changing anything if the data lacks a field.</summary>
    public abstract void Apply(LogRecord record, JsonElement data);

    public abstract void Clear();

    public abstract View Clone();

    public string ContentHash()
    {
        using var hasher = new ContentHasher();
        hasher.Add(Name);
        WriteContent(hasher);
        return hasher.Finish();
    }

    protected abstract void WriteContent(ContentHasher hasher);
}
