namespace DaprGame.Contracts;

/// <summary>
/// Names of the Dapr components every profile in <c>components/</c> defines. Code refers to these names only;
/// which store or broker sits behind them is decided by YAML.
/// </summary>
public static class Components
{
    /// <summary>The state store, also the actor state store.</summary>
    public const string StateStore = "statestore";

    /// <summary>The pub/sub broker carrying every integration event. Replicas of one app-id share each message.</summary>
    public const string PubSub = "pubsub";

    /// <summary>
    /// The same broker seen by subscribers that need every message on every replica (gateway push fan-out): its
    /// <c>consumerID</c> is <c>{podName}</c>, so each replica is its own consumer group. Publishers use
    /// <see cref="PubSub"/>; only subscriptions use this name.
    /// </summary>
    public const string Broadcast = "broadcast";
}
