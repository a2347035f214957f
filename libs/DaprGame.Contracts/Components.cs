namespace DaprGame.Contracts;

/// <summary>
/// Names of the Dapr components every profile in <c>components/</c> defines. Code refers to these names only;
/// which store or broker sits behind them is decided by YAML.
/// </summary>
public static class Components
{
    /// <summary>The state store, also the actor state store.</summary>
    public const string StateStore = "statestore";

    /// <summary>The pub/sub broker carrying every integration event.</summary>
    public const string PubSub = "pubsub";
}
