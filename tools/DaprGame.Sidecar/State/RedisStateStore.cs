using System.Globalization;
using DaprGame.Sidecar.Components;
using StackExchange.Redis;

namespace DaprGame.Sidecar.State;

/// <summary>
/// <c>state.redis</c> in Dapr's layout (shared/dapr-contract.md §4.3): each key a hash with <c>data</c> and an
/// integer <c>version</c> that is the ETag, plus <c>first-write</c> when the key was ever written with first-write.
/// Data written here is readable by real daprd and the other way round. Every write is one Lua script, so the check
/// and the write cannot interleave with another client.
/// </summary>
/// <remarks>
/// The store cannot tell an explicit <c>LAST_WRITE</c> from "no concurrency given" (<see cref="Concurrency"/> folds
/// them), and the SDK sends no options unless asked, which daprd passes on as "unspecified": an ETag is then checked.
/// So a supplied ETag is always checked here; real Redis would ignore it only under an explicit <c>LAST_WRITE</c>.
/// Strong consistency makes Dapr issue <c>WAIT</c> only when the server has replicas; a local single node has none,
/// so it is never issued.
/// </remarks>
public sealed class RedisStateStore : IStateStore
{
    private const string MismatchMarker = "DAPRGAME_ETAG_MISMATCH";

    // KEYS[1]: key. ARGV: expected version ("0" = none), data, first-write flag ("1"), ttl seconds (> 0 EXPIRE, else PERSIST).
    // The write succeeds when the key has no version, the version matches, or no version was expected and the key
    // was never written with first-write: components-contrib's rule. A non-hash value (a legacy plain string) is
    // replaced, as Dapr's script does.
    private const string SetScript = """
        local kind = redis.call('TYPE', KEYS[1]).ok
        local version = false
        local firstWrite = false
        if kind == 'hash' then
          version = redis.call('HGET', KEYS[1], 'version')
          firstWrite = redis.call('HEXISTS', KEYS[1], 'first-write') == 1
        end
        if version and version ~= '' and version ~= ARGV[1] and not (ARGV[1] == '0' and not firstWrite) then
          return redis.error_reply('DAPRGAME_ETAG_MISMATCH failed to set key ' .. KEYS[1])
        end
        if kind ~= 'hash' and kind ~= 'none' then
          redis.call('DEL', KEYS[1])
        end
        redis.call('HSET', KEYS[1], 'data', ARGV[2])
        if ARGV[3] == '1' then
          redis.call('HSET', KEYS[1], 'first-write', 0)
        end
        local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
        if tonumber(ARGV[4]) > 0 then
          redis.call('EXPIRE', KEYS[1], ARGV[4])
        else
          redis.call('PERSIST', KEYS[1])
        end
        return v
        """;

    // KEYS[1]: key. ARGV[1]: the ETag as given ("0" = none). Compared as text, as Dapr does: a non-numeric ETag on
    // delete is a mismatch, not invalid.
    private const string DeleteScript = """
        local kind = redis.call('TYPE', KEYS[1]).ok
        if kind ~= 'hash' then
          return redis.call('DEL', KEYS[1])
        end
        local version = redis.call('HGET', KEYS[1], 'version')
        if not version or version == '' or ARGV[1] == '0' or version == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return redis.error_reply('DAPRGAME_ETAG_MISMATCH failed to delete ' .. KEYS[1])
        """;

    // Reads value, version and remaining TTL in one round trip, so they describe the same moment.
    private const string GetScript = """
        local kind = redis.call('TYPE', KEYS[1]).ok
        if kind == 'hash' then
          return {1, redis.call('HGETALL', KEYS[1]), redis.call('PTTL', KEYS[1])}
        elseif kind == 'string' then
          return {2, redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
        end
        return {0}
        """;

    // Dapr runs a transaction as a MULTI pipeline of the set/delete scripts, which has no rollback: a stale ETag in
    // the third operation still leaves the first two applied. The sidecar's StateApi promises that a transaction
    // with a stale ETag throws and changes nothing, so the whole transaction is this one script instead: it first
    // checks every operation against the state as it will be when that operation runs (earlier operations on the
    // same key included), and only then applies all writes. Redis runs a script atomically, so no other client sees
    // a partial transaction, and the apply phase issues only commands that cannot fail on a hash.
    // KEYS[i]: key of operation i. ARGV[5(i-1)+1..5]: kind ('s' set, 'd' delete), expected ETag, data,
    // first-write flag, ttl seconds.
    private const string TransactionScript = """
        local sim = {}
        local function load(k)
          local s = sim[k]
          if s == nil then
            s = {version = false, firstWrite = false}
            if redis.call('TYPE', k).ok == 'hash' then
              s.version = redis.call('HGET', k, 'version')
              s.firstWrite = redis.call('HEXISTS', k, 'first-write') == 1
            end
            sim[k] = s
          end
          return s
        end
        for i = 1, #KEYS do
          local b = (i - 1) * 5
          local expected = ARGV[b + 2]
          local s = load(KEYS[i])
          local has = s.version and s.version ~= ''
          if ARGV[b + 1] == 's' then
            if has and s.version ~= expected and not (expected == '0' and not s.firstWrite) then
              return redis.error_reply('DAPRGAME_ETAG_MISMATCH operation ' .. i .. ' (set ' .. KEYS[i] .. ')')
            end
            local current = 0
            if has then current = tonumber(s.version) or 0 end
            s.version = tostring(current + 1)
            if ARGV[b + 4] == '1' then s.firstWrite = true end
          else
            if has and expected ~= '0' and s.version ~= expected then
              return redis.error_reply('DAPRGAME_ETAG_MISMATCH operation ' .. i .. ' (delete ' .. KEYS[i] .. ')')
            end
            s.version = false
            s.firstWrite = false
          end
        end
        for i = 1, #KEYS do
          local b = (i - 1) * 5
          local k = KEYS[i]
          if ARGV[b + 1] == 's' then
            local kind = redis.call('TYPE', k).ok
            if kind ~= 'hash' and kind ~= 'none' then
              redis.call('DEL', k)
            end
            redis.call('HSET', k, 'data', ARGV[b + 3])
            if ARGV[b + 4] == '1' then
              redis.call('HSET', k, 'first-write', 0)
            end
            redis.call('HINCRBY', k, 'version', 1)
            if tonumber(ARGV[b + 5]) > 0 then
              redis.call('EXPIRE', k, ARGV[b + 5])
            else
              redis.call('PERSIST', k)
            end
          else
            redis.call('DEL', k)
          end
        end
        return #KEYS
        """;

    private readonly ComponentContext _context;
    private readonly ConfigurationOptions _options;
    private readonly int _database;
    private readonly long _defaultTtlSeconds;
    private ConnectionMultiplexer? _connection;

    public RedisStateStore(ComponentSpec spec, ComponentContext context)
    {
        _context = context;
        if (spec.GetBool("enableTLS"))
        {
            throw new InvalidOperationException("enableTLS=true is not supported by the local sidecar's state.redis; use a plain-text Redis locally, or real Dapr");
        }
        var type = spec.Get("redisType");
        if (type is { Length: > 0 } && !type.Equals("node", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"redisType '{type}' is not supported by the local sidecar's state.redis (only 'node'); use real Dapr for Redis Cluster");
        }
        if (spec.GetBool("failover"))
        {
            throw new InvalidOperationException("failover=true (Redis Sentinel) is not supported by the local sidecar's state.redis; use real Dapr");
        }
        var host = spec.Get("redisHost");
        if (string.IsNullOrWhiteSpace(host))
        {
            throw new InvalidOperationException("missing metadata 'redisHost' (host:port)");
        }
        _database = StoreMetadata.Int(spec, "redisDB") ?? 0;
        _defaultTtlSeconds = StoreMetadata.Int(spec, "ttlInSeconds") ?? 0;
        _options = new ConfigurationOptions
        {
            // Fail start-up when the server is unreachable instead of retrying in the background forever.
            AbortOnConnectFail = true,
            ConnectTimeout = 5000,
            Password = spec.Get("redisPassword") is { Length: > 0 } password ? password : null,
            User = spec.Get("redisUsername") is { Length: > 0 } user ? user : null,
            DefaultDatabase = _database,
            ClientName = "daprgame-sidecar",
        };
        _options.EndPoints.Add(host.Trim());
    }

    public IReadOnlyList<string> Features { get; } = ["ETAG", "TRANSACTIONAL", "TTL"];

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        _connection = await ConnectionMultiplexer.ConnectAsync(_options);
        await Db.PingAsync();
    }

    public async Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(GetScript, [key]))!;
        var kind = (int)result[0];
        if (kind == 0)
        {
            return null;
        }
        var pttl = (long)result[2];
        DateTimeOffset? expires = pttl > 0 ? _context.Time.GetUtcNow().AddMilliseconds(pttl) : null;
        if (kind == 2)
        {
            // A plain string written by something older than Dapr's hash layout: readable, but it has no ETag.
            return new StateItem((byte[])result[1]!, "", IsBinary: true, expires);
        }
        var fields = (RedisResult[])result[1]!;
        byte[]? data = null;
        string? version = null;
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            switch ((string?)fields[i])
            {
                case "data":
                    data = (byte[]?)fields[i + 1];
                    break;
                case "version":
                    version = (string?)fields[i + 1];
                    break;
            }
        }
        if (data is null)
        {
            throw new InvalidOperationException($"required hash field 'data' was not found in key {key}");
        }
        return new StateItem(data, version ?? "", IsBinary: true, expires);
    }

    public async Task SetAsync(StateSet request, CancellationToken cancellationToken)
    {
        var expected = ExpectedVersion(request);
        try
        {
            await Db.ScriptEvaluateAsync(SetScript, [request.Key],
                [expected, request.Value, request.Concurrency == Concurrency.FirstWrite ? "1" : "0", TtlSeconds(request)]);
        }
        catch (RedisServerException e) when (e.Message.Contains(MismatchMarker, StringComparison.Ordinal))
        {
            // Dapr reports an ETag error only when an ETag was supplied; first-write refusing an existing key
            // without one is a plain failure (Internal), not Aborted.
            if (!string.IsNullOrEmpty(request.ETag))
            {
                throw new ETagMismatchException("possible etag mismatch");
            }
            throw new InvalidOperationException($"failed to set key {request.Key}: the key was written with first-write and exists");
        }
    }

    public async Task DeleteAsync(StateDelete request, CancellationToken cancellationToken)
    {
        try
        {
            await Db.ScriptEvaluateAsync(DeleteScript, [request.Key], [string.IsNullOrEmpty(request.ETag) ? "0" : request.ETag]);
        }
        catch (RedisServerException e) when (e.Message.Contains(MismatchMarker, StringComparison.Ordinal))
        {
            throw new ETagMismatchException("possible etag mismatch");
        }
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        if (operations.Count == 0)
        {
            return;
        }
        var keys = new RedisKey[operations.Count];
        var args = new RedisValue[operations.Count * 5];
        for (var i = 0; i < operations.Count; i++)
        {
            var b = i * 5;
            if (operations[i].Set is { } set)
            {
                keys[i] = set.Key;
                args[b] = "s";
                args[b + 1] = ExpectedVersion(set);
                args[b + 2] = set.Value;
                args[b + 3] = set.Concurrency == Concurrency.FirstWrite ? "1" : "0";
                args[b + 4] = TtlSeconds(set);
            }
            else
            {
                var delete = operations[i].Delete!;
                keys[i] = delete.Key;
                args[b] = "d";
                args[b + 1] = string.IsNullOrEmpty(delete.ETag) ? "0" : delete.ETag;
                args[b + 2] = RedisValue.EmptyString;
                args[b + 3] = "0";
                args[b + 4] = 0;
            }
        }
        try
        {
            await Db.ScriptEvaluateAsync(TransactionScript, keys, args);
        }
        catch (RedisServerException e) when (e.Message.Contains(MismatchMarker, StringComparison.Ordinal))
        {
            throw new ETagMismatchException("possible etag mismatch in " + e.Message[(e.Message.IndexOf(MismatchMarker, StringComparison.Ordinal) + MismatchMarker.Length + 1)..]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.CloseAsync();
            await _connection.DisposeAsync();
            _connection = null;
        }
    }

    private IDatabase Db => (_connection ?? throw new InvalidOperationException("state.redis is not initialised")).GetDatabase(_database);

    /// <summary>
    /// Dapr parses the ETag as an integer before a write (non-numeric: invalid); no ETag is sent as "0", and so is
    /// any ETag under an explicit last-write, which the Redis component ignores.
    /// </summary>
    private static string ExpectedVersion(StateSet request)
    {
        var etag = request.ETag;
        if (string.IsNullOrEmpty(etag) || request.Concurrency == Concurrency.LastWrite)
        {
            return "0";
        }
        return long.TryParse(etag, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var version)
            ? version.ToString(CultureInfo.InvariantCulture)
            : throw new ETagInvalidException($"'{etag}' is not an integer version");
    }

    /// <summary>
    /// The request's TTL, else the component's <c>ttlInSeconds</c>; 0 means PERSIST. A request asking for no
    /// expiry (<c>ttlInSeconds</c> ≤ 0, carried as zero) overrides the component default.
    /// </summary>
    private long TtlSeconds(StateSet request) => request.Ttl switch
    {
        { } ttl when ttl > TimeSpan.Zero => (long)Math.Ceiling(ttl.TotalSeconds),
        { } => 0,
        null => Math.Max(0, _defaultTtlSeconds),
    };
}
