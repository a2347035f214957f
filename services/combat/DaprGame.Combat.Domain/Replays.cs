using DaprGame.Combat.Domain.Log;
using DaprGame.Combat.Domain.Rules;

namespace DaprGame.Combat.Domain;

/// <summary>What a replay produced: every tick's hash, and how many differ from the hashes it was checked against.</summary>
/// <param name="FirstMismatchTick">The first tick whose hash differs (or that one side lacks), null when none.</param>
public sealed record ReplayReport(int Ticks, ulong FinalHash, int Mismatches, int? FirstMismatchTick, IReadOnlyList<ulong> Hashes);

/// <summary>Re-simulates matches from their <see cref="IMatchSimulation.Log"/>.</summary>
public static class Replays
{
    /// <summary>
    /// Replays the log on a fresh match and compares each tick's hash with <paramref name="expectedHashes"/>
    /// (index 0 = tick 1), when given; a tick only one side has counts as a mismatch.
    /// </summary>
    /// <exception cref="InvalidDataException">The log is not a readable replay log of a supported version.</exception>
    public static ReplayReport Verify(ReadOnlySpan<byte> log, IReadOnlyList<ulong>? expectedHashes = null)
    {
        var reader = new MatchLogReader(log);
        var problem = MatchSimulations.Validate(reader.Setup);
        if (problem is not null)
        {
            throw new InvalidDataException($"the log's setup is invalid: {problem}");
        }
        var match = new Match(reader.Setup, new SimulationOptions());
        while (!reader.End)
        {
            var operation = reader.ReadOperation();
            try
            {
                switch (operation)
                {
                    case MatchLogFormat.Join:
                        var player = reader.ReadString();
                        match.Join(player, reader.ReadSigned());
                        break;
                    case MatchLogFormat.Leave:
                        match.Leave(reader.ReadString());
                        break;
                    case MatchLogFormat.Input:
                        var index = reader.ReadIndex();
                        match.ReplayInput(index, reader.ReadInput());
                        break;
                    case MatchLogFormat.Step:
                        match.Step();
                        break;
                    default:
                        throw new InvalidDataException($"unknown log operation {operation}");
                }
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                throw new InvalidDataException($"the log does not replay at tick {match.Tick + 1}: {e.Message}", e);
            }
        }

        var hashes = match.TickHashes;
        var mismatches = 0;
        int? first = null;
        if (expectedHashes is not null)
        {
            var length = Math.Max(hashes.Count, expectedHashes.Count);
            for (var i = 0; i < length; i++)
            {
                if (i >= hashes.Count || i >= expectedHashes.Count || hashes[i] != expectedHashes[i])
                {
                    mismatches++;
                    first ??= i + 1;
                }
            }
        }
        return new ReplayReport(match.Tick, match.StateHash, mismatches, first, [.. hashes]);
    }
}
