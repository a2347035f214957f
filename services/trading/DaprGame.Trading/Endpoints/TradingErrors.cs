using DaprGame.Contracts.Trading;
using DaprGame.Trading.Actors;
using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Endpoints;

/// <summary>The one place where refusals become wire errors: a <see cref="TradingErrorCodes"/> code and an HTTP status.</summary>
public static class TradingErrors
{
    public static int Status(string code) => code switch
    {
        TradingErrorCodes.Invalid => StatusCodes.Status400BadRequest,
        TradingErrorCodes.Unauthenticated => StatusCodes.Status401Unauthorized,
        TradingErrorCodes.Forbidden => StatusCodes.Status403Forbidden,
        TradingErrorCodes.NotFound or TradingErrorCodes.UnknownInstrument => StatusCodes.Status404NotFound,
        TradingErrorCodes.Expired => StatusCodes.Status410Gone,
        TradingErrorCodes.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status409Conflict,
    };

    public static IResult Problem(string code, string message) => TypedResults.Problem(
        statusCode: Status(code),
        title: code,
        detail: message,
        extensions: new Dictionary<string, object?> { ["code"] = code });

    public static IResult Problem(TradingError error) => Problem(error.Code, error.Message);

    public static string Code(LedgerError error) => error switch
    {
        LedgerError.InsufficientFunds => TradingErrorCodes.InsufficientFunds,
        LedgerError.InsufficientItems or LedgerError.UnknownInstance => TradingErrorCodes.InsufficientItems,
        LedgerError.IdempotencyConflict => TradingErrorCodes.IdempotencyConflict,
        LedgerError.UnknownHold or LedgerError.HoldClosed => TradingErrorCodes.NotFound,
        LedgerError.HoldExceeded or LedgerError.DuplicateHold or LedgerError.InstanceAlreadyOwned => TradingErrorCodes.WrongState,
        _ => TradingErrorCodes.Invalid,
    };

    public static IResult Reply<T>(ActorReply<T> reply) => reply.Error is { } error ? Problem(error) : TypedResults.Ok(reply.Value);
}
