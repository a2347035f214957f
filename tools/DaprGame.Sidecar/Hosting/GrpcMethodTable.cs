using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using DaprService = Dapr.Client.Autogen.Grpc.v1.Dapr;

namespace DaprGame.Sidecar.Hosting;

/// <summary>Marker type the Dapr gRPC service is bound to; the methods themselves come from <see cref="GrpcMethodTable"/>.</summary>
public sealed class DaprGrpcService;

/// <summary>
/// The methods of <c>dapr.proto.runtime.v1.Dapr</c> this sidecar implements. Dapr.Protos ships only the client, so
/// each method is bound by hand from the service descriptor (shared/dapr-contract.md §1.2); a method not in the table
/// is answered <c>Unimplemented</c> by ASP.NET Core's gRPC fallback.
/// </summary>
public sealed class GrpcMethodTable
{
    private const string ServiceName = "dapr.proto.runtime.v1.Dapr";
    private readonly List<Action<ServiceMethodProviderContext<DaprGrpcService>>> _bindings = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _names;

    /// <summary>Binds a unary method by name; the request and response types must match the descriptor.</summary>
    public void AddUnary<TRequest, TResponse>(string name, Func<TRequest, ServerCallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var descriptor = DaprService.Descriptor.FindMethodByName(name)
            ?? throw new InvalidOperationException($"{ServiceName} has no method {name}");
        if (descriptor.InputType.ClrType != typeof(TRequest) || descriptor.OutputType.ClrType != typeof(TResponse))
        {
            throw new InvalidOperationException($"{name} takes {descriptor.InputType.ClrType.Name} and returns {descriptor.OutputType.ClrType.Name}");
        }
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"{name} is bound twice");
        }
        var parser = new MessageParser<TRequest>(() => new TRequest());
        var responseParser = new MessageParser<TResponse>(() => new TResponse());
        var method = new Method<TRequest, TResponse>(
            MethodType.Unary,
            ServiceName,
            name,
            Marshallers.Create(m => m.ToByteArray(), parser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), responseParser.ParseFrom));
        _bindings.Add(ctx => ctx.AddUnaryMethod(method, [], (_, request, call) => handler(request, call)));
    }

    internal void Bind(ServiceMethodProviderContext<DaprGrpcService> context)
    {
        foreach (var bind in _bindings)
        {
            bind(context);
        }
    }
}

/// <summary>Hands the table's bindings to ASP.NET Core gRPC.</summary>
internal sealed class DaprGrpcMethodProvider(GrpcMethodTable table) : IServiceMethodProvider<DaprGrpcService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<DaprGrpcService> context) => table.Bind(context);
}
