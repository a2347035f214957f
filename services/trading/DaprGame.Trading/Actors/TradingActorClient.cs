using System.Text.Json;
using Dapr.Actors;
using Dapr.Actors.Client;
using DaprGame.Hosting;

namespace DaprGame.Trading.Actors;

/// <summary>
/// Calls trading's actors through this app's own sidecar (<see cref="DaprEndpoints"/>), by method name with JSON bodies,
/// so two trading apps in one test process each use their own sidecar.
/// </summary>
public sealed class TradingActorClient
{
    public const string WalletType = "Wallet";
    public const string OrderBookType = "OrderBook";
    public const string SettlementType = "Settlement";
    public const string DirectTradeType = "DirectTrade";

    private readonly ActorProxyFactory _factory;

    public TradingActorClient(DaprEndpoints endpoints, JsonSerializerOptions json)
    {
        _factory = new ActorProxyFactory(new ActorProxyOptions
        {
            HttpEndpoint = endpoints.Http,
            DaprApiToken = endpoints.ApiToken,
            JsonSerializerOptions = json,
            RequestTimeout = TimeSpan.FromSeconds(30),
        });
    }

    public Task<TResult> CallAsync<TCall, TResult>(string type, string id, string method, TCall call, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(id), type).InvokeMethodAsync<TCall, TResult>(method, call, cancellationToken);

    public Task<TResult> CallAsync<TResult>(string type, string id, string method, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(id), type).InvokeMethodAsync<TResult>(method, cancellationToken);

    public Task CallAsync<TCall>(string type, string id, string method, TCall call, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(id), type).InvokeMethodAsync(method, call, cancellationToken);
}
