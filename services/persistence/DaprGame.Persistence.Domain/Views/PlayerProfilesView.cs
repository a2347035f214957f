using System.Collections.Immutable;
using System.Text.Json;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>A player's balance of one asset as of the newest wallet entry seen for it (<see cref="EntrySequence"/>).</summary>
public sealed record AssetBalance(long Available, long Held, long EntrySequence);

/// <summary>
/// A player's profile: balances per asset (currencies are <c>currency:*</c>; everything else counts towards
/// <see cref="InventoryCount"/>) and match stats.
/// </summary>
public sealed record PlayerProfile(
    string PlayerId, ImmutableSortedDictionary<string, AssetBalance> Assets, int Matches, int Wins, long Kills, long Deaths, long Score)
{
    public long InventoryCount
    {
        get
        {
            var count = 0L;
            foreach (var (asset, balance) in Assets)
            {
                if (!asset.StartsWith("currency:", StringComparison.Ordinal))
                {
                    count += balance.Available + balance.Held;
                }
            }
            return count;
        }
    }

    internal static PlayerProfile Empty(string playerId) =>
        new(playerId, ImmutableSortedDictionary.Create<string, AssetBalance>(StringComparer.Ordinal), 0, 0, 0, 0, 0);
}

/// <summary>
/// Player profiles from <c>trading.wallet.changed.v1</c> (each entry's <c>availableAfter</c>/<c>heldAfter</c>; the
/// entry with the highest ledger sequence per asset wins, so wallet events arriving out of order still end at the
/// newest balance) and <c>combat.match.ended.v1</c> (matches, wins, kills, deaths, score).
/// </summary>
public sealed class PlayerProfilesView : View
{
    public const string WalletChanged = "trading.wallet.changed.v1";
    public const string MatchEnded = "combat.match.ended.v1";

    private readonly SortedDictionary<string, PlayerProfile> _profiles = new(StringComparer.Ordinal);

    public PlayerProfilesView()
    {
    }

    /// <summary>A view holding <paramref name="state"/>, as read back from a stored snapshot's <see cref="State"/>.</summary>
    public PlayerProfilesView(IEnumerable<KeyValuePair<string, PlayerProfile>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (key, value) in state)
        {
            _profiles[key] = value with { Assets = value.Assets.WithComparers(StringComparer.Ordinal) };
        }
    }

    /// <summary>The whole state (profiles per player), for the host to serialise; values are immutable.</summary>
    public IReadOnlyDictionary<string, PlayerProfile> State => _profiles;

    public override string Name => "player-profiles";

    public PlayerProfile? Find(string playerId) => _profiles.GetValueOrDefault(playerId);

    public override bool Handles(string eventType) => eventType is WalletChanged or MatchEnded;

    public override void Apply(LogRecord record, JsonElement data)
    {
        if (record.Type == WalletChanged)
        {
            var playerId = JsonFields.String(data, "playerId");
            var entries = new List<(string Asset, AssetBalance Balance)>();
            foreach (var entry in JsonFields.Array(data, "entries").EnumerateArray())
            {
                entries.Add((JsonFields.String(entry, "asset"), new AssetBalance(
                    JsonFields.Long(entry, "availableAfter"), JsonFields.Long(entry, "heldAfter"), JsonFields.Long(entry, "sequence"))));
            }
            var profile = Get(playerId);
            var assets = profile.Assets;
            foreach (var (asset, balance) in entries)
            {
                if (!assets.TryGetValue(asset, out var current) || current.EntrySequence < balance.EntrySequence)
                {
                    assets = assets.SetItem(asset, balance);
                }
            }
            _profiles[playerId] = profile with { Assets = assets };
        }
        else
        {
            var ended = MatchResult.Read(data);
            foreach (var player in ended.Players)
            {
                var profile = Get(player.PlayerId);
                _profiles[player.PlayerId] = profile with
                {
                    Matches = profile.Matches + 1,
                    Wins = profile.Wins + (ended.Winners.Contains(player.PlayerId) ? 1 : 0),
                    Kills = profile.Kills + player.Kills,
                    Deaths = profile.Deaths + player.Deaths,
                    Score = profile.Score + player.Score,
                };
            }
        }
    }

    public override void Clear() => _profiles.Clear();

    public override View Clone() => new PlayerProfilesView(_profiles);

    protected override void WriteContent(ContentHasher hasher)
    {
        foreach (var (id, p) in _profiles)
        {
            hasher.Add(id).Add(p.Matches).Add(p.Wins).Add(p.Kills).Add(p.Deaths).Add(p.Score).Add(p.Assets.Count);
            foreach (var (asset, b) in p.Assets)
            {
                hasher.Add(asset).Add(b.Available).Add(b.Held).Add(b.EntrySequence);
            }
        }
    }

    private PlayerProfile Get(string playerId) => _profiles.GetValueOrDefault(playerId) ?? PlayerProfile.Empty(playerId);
}
