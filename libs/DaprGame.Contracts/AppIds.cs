namespace DaprGame.Contracts;

/// <summary>
/// The Dapr app-id of each service: the lowercase folder name under <c>services/</c>, used verbatim in
/// <c>dapr.yaml</c> and <c>deploy/</c>.
/// </summary>
public static class AppIds
{
    public const string Gateway = "gateway";
    public const string Chat = "chat";
    public const string Trading = "trading";
    public const string Combat = "combat";
    public const string Persistence = "persistence";

    /// <summary>Every service, in start order.</summary>
    public static IReadOnlyList<string> All { get; } = [Gateway, Chat, Trading, Combat, Persistence];
}
