using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DaprGame.Combat.Infrastructure;

/// <summary>The combat service's meter and activity source (<c>DaprGame.Combat</c>), exported on <c>/metrics</c>.</summary>
public sealed class CombatMetrics : IDisposable
{
    public const string Name = "DaprGame.Combat";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private readonly Histogram<double> _tickDuration;
    private readonly Counter<long> _overruns;
    private readonly Histogram<long> _snapshotBytes;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _inputsReceived;
    private readonly Counter<long> _inputsRejected;
    private readonly Counter<long> _framesDropped;
    private readonly Counter<long> _ticketsRefused;
    private readonly UpDownCounter<long> _running;

    public CombatMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(Name);
        _tickDuration = _meter.CreateHistogram<double>("daprgame.combat.tick.duration", unit: "ms", description: "Time one tick took (inputs, step, snapshots)");
        _overruns = _meter.CreateCounter<long>("daprgame.combat.tick.overruns", description: "Ticks that took longer than their period");
        _snapshotBytes = _meter.CreateHistogram<long>("daprgame.combat.snapshot.bytes", unit: "By", description: "Bytes of one snapshot frame sent to one client");
        _bytesSent = _meter.CreateCounter<long>("daprgame.combat.socket.bytes_sent", unit: "By", description: "Bytes written to match sockets");
        _inputsReceived = _meter.CreateCounter<long>("daprgame.combat.inputs.received", description: "Input frames decoded and queued for the loop");
        _inputsRejected = _meter.CreateCounter<long>("daprgame.combat.inputs.rejected", description: "Inputs refused or altered, by reason (simulation verdicts, flood)");
        _framesDropped = _meter.CreateCounter<long>("daprgame.combat.frames.dropped", description: "Client frames dropped, by reason (oversize, malformed)");
        _ticketsRefused = _meter.CreateCounter<long>("daprgame.combat.tickets.refused", description: "Match socket tickets refused, by reason");
        _running = _meter.CreateUpDownCounter<long>("daprgame.combat.matches.running", description: "Matches whose loop runs on this replica");
    }

    public void Tick(TimeSpan duration) => _tickDuration.Record(duration.TotalMilliseconds);

    public void Overrun() => _overruns.Add(1);

    public void SnapshotSent(int bytes)
    {
        _snapshotBytes.Record(bytes);
        _bytesSent.Add(bytes);
    }

    public void BytesSent(int bytes) => _bytesSent.Add(bytes);

    public void InputReceived() => _inputsReceived.Add(1);

    public void InputRejected(string reason) => _inputsRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void FrameDropped(string reason) => _framesDropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void TicketRefused(string reason) => _ticketsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void MatchStarted() => _running.Add(1);

    public void MatchStopped() => _running.Add(-1);

    public void Dispose() => _meter.Dispose();
}
