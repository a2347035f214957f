using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DaprGame.Sidecar.Api;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.Resiliency;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Actors;

/// <summary>
/// Virtual actors as daprd runs them (shared/dapr-contract.md §2): reads the app's <c>/dapr/config</c>, joins the
/// shared placement with the types the app hosts, serves the actor HTTP and gRPC API, routes each call to the host
/// owning the actor, and there runs it as one turn under the actor's FIFO lock. Actor state and reminders live in the
/// store marked <c>actorStateStore</c>; timers live in memory; idle actors are deactivated after
/// <c>actorIdleTimeout</c>; stopping drains in-flight turns, deactivates every actor and leaves placement.
/// </summary>
public sealed partial class ActorsFeature : ISidecarFeature, IActorHostPeer, ISidecarDrain
{
    internal const string InternalPrefix = "/_daprgame/internal/actors";
    private const int MaxRoutes = 8;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly SidecarRuntime _runtime;
    private readonly IActorPlacement _placement;
    private readonly int _httpPort;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly string _internalKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private readonly ConcurrentDictionary<string, ActorInstance> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ScheduledReminder> _reminders = new(StringComparer.Ordinal);
    private readonly Lock _gateLock = new();
    private readonly HttpMessageInvoker _peers;
    private readonly ReminderStore? _reminderStore;
    private ActorAppConfig _config = ActorAppConfig.Empty;
    private TaskCompletionSource? _closedGate;
    private int _gateCount;
    private IAsyncDisposable? _membership;
    private ITimer? _idleScan;
    private volatile bool _stopping;
    private int _drained;

    public ActorsFeature(SidecarRuntime runtime, IActorPlacement placement, int httpPort)
    {
        _runtime = runtime;
        _placement = placement;
        _httpPort = httpPort;
        _time = runtime.Time;
        _log = runtime.Logging.CreateLogger("DaprGame.Sidecar.Actors");
        if (runtime.Components.ActorStateStore is { } store)
        {
            _reminderStore = new ReminderStore(store.Store);
        }
        _peers = LoopbackHttp.CreateInvoker();
    }

    /// <summary>The actor types this sidecar's app hosts (empty until the app answered <c>/dapr/config</c>).</summary>
    public IReadOnlyCollection<string> HostedTypes => _config.Types.Keys;

    private string AppId => _runtime.Options.AppId;

    private string InstanceId => _runtime.Options.InstanceId;

    // ---- start-up ----

    public async Task OnAppReadyAsync(CancellationToken cancellationToken)
    {
        if (_runtime.AppChannel is { } channel)
        {
            _config = await ReadAppConfigAsync(channel, cancellationToken);
        }
        if (_config.Types.Count == 0)
        {
            return;
        }
        if (_reminderStore is null)
        {
            // A ResourceException, so both the CLI and the launcher report it as one line and exit.
            throw new Components.ResourceException(
                _runtime.Options.ResourcesPaths.Count == 0 ? "(no resources path)" : string.Join(", ", _runtime.Options.ResourcesPaths),
                $"the app registers actor types ({string.Join(", ", _config.Types.Keys)}) but no state store sets actorStateStore: \"true\"; actors need one");
        }
        _runtime.ActiveActors = CountActive;
        var smallestIdle = _config.Types.Values.Min(t => t.IdleTimeout);
        var scanEvery = smallestIdle < TimeSpan.FromSeconds(1) ? smallestIdle : TimeSpan.FromSeconds(1);
        _idleScan = _time.CreateTimer(static s => ((ActorsFeature)s!).ScanIdle(), this, scanEvery, scanEvery);
        _membership = await _placement.JoinAsync(
            new ActorHostMember(AppId, InstanceId, [.. _config.Types.Keys], "127.0.0.1", _httpPort, _internalKey, Environment.ProcessId) { InProcess = this },
            cancellationToken);
        _log.LogInformation("actor runtime started for {Types}", string.Join(", ", _config.Types.Keys));
    }

    /// <summary>daprd reads <c>/dapr/config</c> once; only HTTP 200 counts, anything else means no actors.</summary>
    private async Task<ActorAppConfig> ReadAppConfigAsync(AppChannel channel, CancellationToken cancellationToken)
    {
        using var request = channel.CreateRequest(HttpMethod.Get, "/dapr/config");
        request.Headers.TryAddWithoutValidation("dapr-app-id", AppId);
        try
        {
            using var response = await channel.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return ActorAppConfig.Empty;
            }
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return body.Length == 0 ? ActorAppConfig.Empty : ActorAppConfig.Parse(body);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            _log.LogWarning("could not read the app's /dapr/config: {Error}", e.Message);
            return ActorAppConfig.Empty;
        }
    }

    private IReadOnlyList<KeyValuePair<string, int>> CountActive()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in _config.Types.Keys)
        {
            counts[t] = 0;
        }
        foreach (var a in _active.Values)
        {
            counts[a.Type] = counts.GetValueOrDefault(a.Type) + 1;
        }
        return [.. counts];
    }

    // ---- routing (caller side) ----

    /// <summary>
    /// Routes a call to the actor's owner (this host, a host in this process, or a remote sidecar) and returns its
    /// answer, under the actor type's resiliency policies when any apply: a per-attempt timeout, retries of failed
    /// calls (anything but 200, and 404 "method not found", which is final) and the type's circuit breaker.
    /// </summary>
    internal async Task<ActorResult> RouteAsync(ActorRequest request, CancellationToken cancellationToken)
    {
        if (_runtime.Resiliency.ForActor(request.Type) is not { } policies)
        {
            return await RouteCoreAsync(request, cancellationToken);
        }
        try
        {
            return await policies.ExecuteAsync(ct => RouteCoreAsync(request, ct), Classify, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is CircuitBreakerOpenException or TimeoutException)
        {
            return Failure("ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: {e.Message}");
        }
    }

    private static AttemptVerdict Classify(ActorResult result) => result.Status switch
    {
        200 => AttemptVerdict.Success,
        404 => AttemptVerdict.Failure,
        _ => AttemptVerdict.RetriableFailure,
    };

    private async Task<ActorResult> RouteCoreAsync(ActorRequest request, CancellationToken cancellationToken)
    {
        var unreachable = 0;
        for (var hop = 0; ; hop++)
        {
            var stable = _placement.WhenStableAsync();
            if (!stable.IsCompleted)
            {
                await stable.WaitAsync(cancellationToken);
            }
            var owner = _placement.Current.Owner(request.Type, request.Id);
            if (owner is null)
            {
                return Failure("ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: did not find address for actor {request.Type}/{request.Id}");
            }
            ActorResult result;
            if (owner.InstanceId == InstanceId)
            {
                result = await InvokeOwnedAsync(request, cancellationToken);
            }
            else if (owner.InProcess is { } peer)
            {
                result = await peer.InvokeAsync(request, cancellationToken);
            }
            else
            {
                result = await InvokeRemoteAsync(owner, request, cancellationToken);
                if (result.Unreachable && unreachable++ < 3)
                {
                    // daprd's built-in actor retries: 3 × 1 s when the owning sidecar is unavailable, looking again.
                    await Task.Delay(RetryDelay, _time, cancellationToken);
                    await _placement.RefreshAsync(cancellationToken);
                    hop--;
                    continue;
                }
            }
            if (!ReferenceEquals(result, ActorResult.NotOwner))
            {
                return result;
            }
            if (hop >= MaxRoutes)
            {
                return Failure("ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: placement for actor {request.Type}/{request.Id} did not settle");
            }
            await _placement.RefreshAsync(cancellationToken);
            await Task.Yield();
        }
    }

    private async Task<ActorResult> InvokeRemoteAsync(ActorHostMember owner, ActorRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Put,
            $"http://{owner.Host}:{owner.HttpPort}{InternalPrefix}/{Uri.EscapeDataString(request.Type)}/{Uri.EscapeDataString(request.Id)}/{request.Path}");
        message.Content = new ReadOnlyMemoryContent(request.Body);
        if (request.ContentType is { } ct)
        {
            message.Content.Headers.TryAddWithoutValidation("Content-Type", ct);
        }
        CopyHeaders(request.Headers, message, dropReentrancy: false);
        message.Headers.TryAddWithoutValidation(HttpForwarding.InternalKeyHeader, owner.InternalKey);
        try
        {
            using var response = await _peers.SendAsync(message, cancellationToken);
            if ((int)response.StatusCode == ActorResult.NotOwner.Status)
            {
                return ActorResult.NotOwner;
            }
            var result = await ToResultAsync(response, cancellationToken);
            if (result.Header(ErrorCodeHeader) is { } code)
            {
                var text = JsonDocument.Parse(result.Body).RootElement.GetProperty("message").GetString() ?? "";
                return new ActorResult { Error = new DaprApiException(code, text, response.StatusCode, Grpc.Core.StatusCode.Internal) };
            }
            return result;
        }
        catch (HttpRequestException e) when (HttpForwarding.IsConnectFailure(e))
        {
            return new ActorResult { Unreachable = true, Error = DaprApiException.Internal("ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: {e.Message}") };
        }
    }

    private const string ErrorCodeHeader = "x-daprgame-actor-error";

    /// <summary>The owner's half of a call from a sidecar in another process.</summary>
    private async Task ServePeerAsync(HttpContext context)
    {
        var key = context.Request.Headers[HttpForwarding.InternalKeyHeader].ToString();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(key), Encoding.ASCII.GetBytes(_internalKey)))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        var v = context.Request.RouteValues;
        if ((string)v["path"]! == RemindersChangedPath)
        {
            RemindersChanged((string)v["type"]!, (string)v["id"]!);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        var request = new ActorRequest((string)v["type"]!, (string)v["id"]!, (string)v["path"]!)
        {
            Body = await ReadBodyAsync(context.Request, context.RequestAborted),
            ContentType = context.Request.ContentType,
            Headers = context.Request.Headers,
        };
        var result = await InvokeOwnedAsync(request, context.RequestAborted);
        if (result.Error is { } error)
        {
            context.Response.Headers[ErrorCodeHeader] = error.ErrorCode;
            await DaprHttp.WriteErrorAsync(context, error);
            return;
        }
        await WriteRawAsync(context, result);
    }

    // ---- the owner's turn ----

    /// <summary>Runs the call as one turn of the actor on this host, activating it on first use.</summary>
    private async Task<ActorResult> InvokeOwnedAsync(ActorRequest request, CancellationToken cancellationToken)
    {
        if (!_config.Types.TryGetValue(request.Type, out var settings) || _runtime.AppChannel is not { } channel)
        {
            return ActorResult.NotOwner;
        }
        while (true)
        {
            var gate = Volatile.Read(ref _closedGate);
            if (gate is not null)
            {
                await gate.Task.WaitAsync(cancellationToken);
                continue;
            }
            var owner = _placement.Current.Owner(request.Type, request.Id);
            if (owner is null || owner.InstanceId != InstanceId)
            {
                // The caller's table may be newer than ours (file placement refreshes once a second): look again once.
                await _placement.RefreshAsync(cancellationToken);
                owner = _placement.Current.Owner(request.Type, request.Id);
                if (owner is null || owner.InstanceId != InstanceId)
                {
                    return ActorResult.NotOwner;
                }
            }
            var key = ActorKey(request.Type, request.Id);
            ActorInstance instance;
            if (request.TimerOf is not null)
            {
                if (!_active.TryGetValue(key, out var existing) || !ReferenceEquals(existing, request.TimerOf))
                {
                    return ActorResult.Dropped;
                }
                instance = existing;
            }
            else
            {
                instance = _active.GetOrAdd(key, static (_, s) => new ActorInstance(s.Request.Type, s.Request.Id, s.Settings), (Request: request, Settings: settings));
            }
            var chain = settings.Reentrancy ? request.ReentrancyId ?? Guid.NewGuid().ToString() : null;
            bool reentered;
            try
            {
                reentered = await instance.Turns.EnterAsync(chain, settings.MaxStackDepth);
            }
            catch (DaprApiException e)
            {
                return new ActorResult { Error = e };
            }
            try
            {
                if (!reentered && instance.Retired)
                {
                    if (request.TimerOf is not null)
                    {
                        return ActorResult.Dropped;
                    }
                    continue;
                }
                instance.Touch(_time.GetUtcNow());
                return await CallAppAsync(channel, request, chain, cancellationToken);
            }
            finally
            {
                instance.Touch(_time.GetUtcNow());
                instance.Turns.Exit();
            }
        }
    }

    private static async Task<ActorResult> CallAppAsync(AppChannel channel, ActorRequest request, string? chain, CancellationToken cancellationToken)
    {
        using var message = channel.CreateRequest(HttpMethod.Put, $"/actors/{Uri.EscapeDataString(request.Type)}/{Uri.EscapeDataString(request.Id)}/{request.Path}");
        if (!request.Body.IsEmpty || request.ContentType is not null)
        {
            message.Content = new ReadOnlyMemoryContent(request.Body);
            if (request.ContentType is { } ct)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", ct);
            }
        }
        CopyHeaders(request.Headers, message, dropReentrancy: chain is not null);
        if (chain is not null)
        {
            message.Headers.TryAddWithoutValidation("Dapr-Reentrancy-Id", chain);
        }
        try
        {
            using var response = await channel.SendAsync(message, cancellationToken);
            return await ToResultAsync(response, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            return new ActorResult
            {
                Unreachable = HttpForwarding.IsConnectFailure(e),
                Error = DaprApiException.Internal("ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: {e.Message}"),
            };
        }
    }

    private static void CopyHeaders(IHeaderDictionary? headers, HttpRequestMessage message, bool dropReentrancy)
    {
        if (headers is null)
        {
            return;
        }
        foreach (var (name, values) in headers)
        {
            if (HttpForwarding.IsHopByHop(name)
                || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
                || name.Equals("dapr-api-token", StringComparison.OrdinalIgnoreCase)
                || name.Equals(HttpForwarding.InternalKeyHeader, StringComparison.OrdinalIgnoreCase)
                || (dropReentrancy && name.Equals("Dapr-Reentrancy-Id", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }
            message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
    }

    private static async Task<ActorResult> ToResultAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var result = new ActorResult { Status = (int)response.StatusCode, Body = await response.Content.ReadAsByteArrayAsync(cancellationToken) };
        foreach (var h in response.Headers.NonValidated)
        {
            if (!HttpForwarding.IsHopByHop(h.Key))
            {
                result.Headers.Add(new(h.Key, h.Value.ToString()));
            }
        }
        foreach (var h in response.Content.Headers.NonValidated)
        {
            if (!h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                result.Headers.Add(new(h.Key, h.Value.ToString()));
            }
        }
        return result;
    }

    private static string ActorKey(string type, string id) => string.Concat(type, "||", id);

    private static ActorResult Failure(string code, string message) => new() { Error = DaprApiException.Internal(code, message) };

    // ---- deactivation ----

    private void ScanIdle()
    {
        if (_stopping)
        {
            return;
        }
        var now = _time.GetUtcNow().UtcTicks;
        foreach (var instance in _active.Values)
        {
            if (instance.IdleDeadlineTicks <= now && !instance.Retired && instance.Turns.TryEnterIfIdle())
            {
                if (instance.IdleDeadlineTicks > _time.GetUtcNow().UtcTicks || instance.Retired)
                {
                    instance.Turns.Exit();
                    continue;
                }
                instance.Retired = true;
                _ = DeactivateHeldAsync(instance, "idle");
            }
        }
    }

    /// <summary>Drains a moving or stopping actor: queued calls re-route, the running turn finishes (up to the drain timeout), then the app deactivates it.</summary>
    private async Task DrainAsync(ActorInstance instance, string reason)
    {
        instance.Retired = true;
        var enter = instance.Turns.EnterAsync(null, int.MaxValue).AsTask();
        try
        {
            await enter.WaitAsync(_config.DrainOngoingCallTimeout, _time);
        }
        catch (TimeoutException)
        {
            _log.LogWarning("actor {Type}/{Id}: in-flight turn still running after the drain timeout; deactivating anyway", instance.Type, instance.Id);
            _ = enter.ContinueWith(static (_, s) => ((ActorInstance)s!).Turns.Exit(), instance, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await DeactivateAsync(instance, reason);
            return;
        }
        await DeactivateHeldAsync(instance, reason);
    }

    private async Task DeactivateHeldAsync(ActorInstance instance, string reason)
    {
        try
        {
            await DeactivateAsync(instance, reason);
        }
        finally
        {
            instance.Turns.Exit();
        }
    }

    private async Task DeactivateAsync(ActorInstance instance, string reason)
    {
        instance.StopTimers();
        if (instance.TryMarkDeactivated() && _runtime.AppChannel is { } channel)
        {
            try
            {
                using var request = channel.CreateRequest(HttpMethod.Delete, $"/actors/{Uri.EscapeDataString(instance.Type)}/{Uri.EscapeDataString(instance.Id)}");
                using var response = await channel.SendAsync(request, CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    _log.LogWarning("deactivating actor {Type}/{Id} ({Reason}): the app answered {Status}", instance.Type, instance.Id, reason, (int)response.StatusCode);
                }
            }
            catch (HttpRequestException e)
            {
                _log.LogWarning("deactivating actor {Type}/{Id} ({Reason}): {Error}", instance.Type, instance.Id, reason, e.Message);
            }
        }
        _active.TryRemove(new KeyValuePair<string, ActorInstance>(ActorKey(instance.Type, instance.Id), instance));
    }

    // ---- placement peer ----

    public void LockTurns()
    {
        lock (_gateLock)
        {
            if (_gateCount++ == 0)
            {
                Volatile.Write(ref _closedGate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }
        }
    }

    public void UnlockTurns()
    {
        TaskCompletionSource? open = null;
        lock (_gateLock)
        {
            if (--_gateCount == 0)
            {
                open = _closedGate;
                Volatile.Write(ref _closedGate, null);
            }
        }
        open?.TrySetResult();
    }

    public async Task ApplyTableAsync(PlacementTable table, CancellationToken cancellationToken)
    {
        var moving = new List<Task>();
        foreach (var instance in _active.Values)
        {
            if (table.Owner(instance.Type, instance.Id)?.InstanceId != InstanceId)
            {
                moving.Add(_config.DrainRebalancedActors ? DrainAsync(instance, "rebalanced") : DeactivateNowAsync(instance));
            }
        }
        await Task.WhenAll(moving);
        if (!_stopping)
        {
            await LoadRemindersAsync(table, cancellationToken);
        }
    }

    private Task DeactivateNowAsync(ActorInstance instance)
    {
        instance.Retired = true;
        return DeactivateAsync(instance, "rebalanced");
    }

    Task<ActorResult> IActorHostPeer.InvokeAsync(ActorRequest request, CancellationToken cancellationToken) => InvokeOwnedAsync(request, cancellationToken);

    /// <summary>Graceful stop: new turns wait, in-flight turns finish (up to <c>drainOngoingCallTimeout</c>), every actor is deactivated, then this host leaves placement.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _drained, 1) == 1 || _membership is null)
        {
            return;
        }
        _stopping = true;
        _idleScan?.Dispose();
        foreach (var r in _reminders.Values)
        {
            r.Timer?.Dispose();
        }
        _reminders.Clear();
        LockTurns();
        try
        {
            await Task.WhenAll(_active.Values.Select(a => DrainAsync(a, "shutdown")));
            await _membership.DisposeAsync();
        }
        finally
        {
            UnlockTurns();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DrainAsync(CancellationToken.None);
        _idleScan?.Dispose();
        _peers.Dispose();
    }
}
