using System.Net;
using System.Text.Json;
using Dapr.Client.Autogen.Grpc.v1;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DaprGame.Sidecar.Secrets;

/// <summary>
/// The secrets API on both surfaces: <c>GET /v1.0/secrets/{store}/{key}</c>, <c>GET /v1.0/secrets/{store}/bulk</c>
/// and gRPC <c>GetSecret</c>/<c>GetBulkSecret</c>, answered by the loaded <c>secretstores.*</c> components with
/// daprd's error codes (<c>pkg/messages/predefined.go</c>: ERR_SECRET_STORES_NOT_CONFIGURED, ERR_SECRET_STORE_NOT_FOUND,
/// ERR_SECRET_GET). Request metadata (e.g. <c>namespace</c>) means nothing to the local stores and is ignored.
/// </summary>
public sealed class SecretsFeature(ComponentRegistry components) : ISidecarFeature
{
    public void MapHttp(IEndpointRouteBuilder routes)
    {
        // The literal "bulk" segment outranks {key}, as daprd routes it first.
        routes.MapGet("/v1.0/secrets/{store}/bulk", async (HttpContext context, string store) =>
            await WriteJsonAsync(context, GetAll(store)));
        routes.MapGet("/v1.0/secrets/{store}/{key}", async (HttpContext context, string store, string key) =>
            await WriteJsonAsync(context, Get(store, key)));
    }

    public void MapGrpc(GrpcMethodTable methods)
    {
        methods.AddUnary<GetSecretRequest, GetSecretResponse>("GetSecret", (request, _) =>
        {
            var response = new GetSecretResponse();
            foreach (var (k, v) in Get(request.StoreName, request.Key))
            {
                response.Data[k] = v;
            }
            return Task.FromResult(response);
        });
        methods.AddUnary<GetBulkSecretRequest, GetBulkSecretResponse>("GetBulkSecret", (request, _) =>
        {
            var response = new GetBulkSecretResponse();
            foreach (var (name, bag) in GetAll(request.StoreName))
            {
                var secret = new SecretResponse();
                foreach (var (k, v) in bag)
                {
                    secret.Secrets[k] = v;
                }
                response.Data[name] = secret;
            }
            return Task.FromResult(response);
        });
    }

    public Task OnAppReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private IReadOnlyDictionary<string, string> Get(string store, string key)
    {
        Resolve(store);
        try
        {
            return components.Secrets.Get(store, key);
        }
        catch (Exception e) when (e is SecretStoreException or FormatException or IOException or JsonException)
        {
            throw new DaprApiException("ERR_SECRET_GET", $"failed getting secret with key {key} from secret store {store}: {e.Message}", HttpStatusCode.InternalServerError, StatusCode.Internal, e);
        }
    }

    private IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> GetAll(string store)
    {
        Resolve(store);
        try
        {
            return components.Secrets.GetAll(store);
        }
        catch (Exception e) when (e is SecretStoreException or FormatException or IOException or JsonException)
        {
            throw new DaprApiException("ERR_SECRET_GET", $"failed getting secrets from secret store {store}: {e.Message}", HttpStatusCode.InternalServerError, StatusCode.Internal, e);
        }
    }

    private void Resolve(string store)
    {
        if (components.SecretStoreNames.Count == 0)
        {
            throw new DaprApiException("ERR_SECRET_STORES_NOT_CONFIGURED", "secret store is not configured", HttpStatusCode.InternalServerError, StatusCode.FailedPrecondition);
        }
        if (!components.Secrets.Contains(store))
        {
            throw new DaprApiException("ERR_SECRET_STORE_NOT_FOUND", $"failed finding secret store with key {store}", HttpStatusCode.Unauthorized, StatusCode.InvalidArgument);
        }
    }

    private static async Task WriteJsonAsync<T>(HttpContext context, T body)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, body, cancellationToken: context.RequestAborted);
    }
}
