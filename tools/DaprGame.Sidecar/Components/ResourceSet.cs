using DaprGame.Sidecar.Resiliency;

namespace DaprGame.Sidecar.Components;

/// <summary>Everything read from the resources paths and the configuration file, already filtered by scopes.</summary>
public sealed class ResourceSet
{
    public List<ComponentSpec> Components { get; } = [];

    public List<SubscriptionSpec> Subscriptions { get; } = [];

    public ResiliencySpec Resiliency { get; } = new();

    public ConfigurationSpec Configuration { get; set; } = new();
}
