using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DaprGame.Hosting;

/// <summary>
/// What every DaprGame service shares: telemetry, health, metrics, error shape, JSON and the Dapr client.
/// <c>Program.cs</c> calls <see cref="AddServiceDefaults"/> first and <see cref="MapServiceDefaults"/> after building.
/// </summary>
public static class ServiceDefaults
{
    /// <summary>The JSON options every service uses on the wire: camelCase, enums as strings, no nulls written.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = CreateJsonOptions();

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var serviceName = builder.Configuration["APP_ID"] ?? builder.Environment.ApplicationName;

        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => CopyJsonOptions(o.SerializerOptions));
        var dapr = DaprEndpoints.From(builder.Configuration);
        builder.Services.AddSingleton(dapr);
        builder.Services.AddDaprClient(b => b
            .UseHttpEndpoint(dapr.Http)
            .UseGrpcEndpoint(dapr.Grpc)
            .UseDaprApiToken(dapr.ApiToken)
            .UseJsonSerializationOptions(JsonOptions));

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"]);

        AddTelemetry(builder, serviceName);
        return builder;
    }

    /// <summary>
    /// Maps <c>/healthz</c> (liveness), <c>/readyz</c> (every registered check), <c>/metrics</c> (Prometheus),
    /// the Dapr subscription handler and CloudEvents unwrapping.
    /// </summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCloudEvents();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("live") });
        app.MapHealthChecks("/readyz");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapSubscribeHandler();
        return app;
    }

    private static void AddTelemetry(IHostApplicationBuilder builder, string serviceName)
    {
        // W3C trace context on every hop: HTTP, gRPC, pub/sub (traceparent travels in the CloudEvent).
        Sdk.SetDefaultTextMapPropagator(new CompositeTextMapPropagator(
            [new TraceContextPropagator(), new BaggagePropagator()]));
        Activity.DefaultIdFormat = ActivityIdFormat.W3C;

        var zipkin = builder.Configuration["ZIPKIN_ENDPOINT"];
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t =>
            {
                t.AddSource("DaprGame.*")
                    .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsProbe(ctx.Request.Path))
                    .AddHttpClientInstrumentation();
                if (!string.IsNullOrEmpty(zipkin))
                {
                    // Dapr's Configuration names Zipkin as its trace sink, so services export there too.
#pragma warning disable CS0618 // the Zipkin exporter is deprecated upstream but still what Dapr's tracing config targets
                    t.AddZipkinExporter(o => o.Endpoint = new Uri(zipkin));
#pragma warning restore CS0618
                }
            })
            .WithMetrics(m => m
                .AddMeter("DaprGame.*")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        CopyJsonOptions(options);
        // Reflection-based metadata: without a resolver MakeReadOnly throws, which broke every service at start-up.
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private static void CopyJsonOptions(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }
}
