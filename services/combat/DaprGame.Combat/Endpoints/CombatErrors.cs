using DaprGame.Combat.Actors;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Endpoints;

/// <summary>The one place where refusals become wire errors: a <see cref="CombatErrorCodes"/> code and an HTTP status.</summary>
public static class CombatErrors
{
    public static int Status(string code) => code switch
    {
        CombatErrorCodes.Invalid or CombatErrorCodes.UnknownMap => StatusCodes.Status400BadRequest,
        CombatErrorCodes.Unauthenticated => StatusCodes.Status401Unauthorized,
        CombatErrorCodes.Forbidden => StatusCodes.Status403Forbidden,
        CombatErrorCodes.NotFound => StatusCodes.Status404NotFound,
        CombatErrorCodes.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status409Conflict,
    };

    public static IResult Problem(string code, string message) => TypedResults.Problem(
        statusCode: Status(code),
        title: code,
        detail: message,
        extensions: new Dictionary<string, object?> { ["code"] = code });

    public static IResult Reply<T>(CombatReply<T> reply) =>
        reply.Error is { } error ? Problem(error.Code, error.Message) : TypedResults.Ok(reply.Value);
}
