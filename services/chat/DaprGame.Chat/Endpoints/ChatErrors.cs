using DaprGame.Chat.Domain;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Endpoints;

/// <summary>The one place where domain errors become wire errors: a <see cref="ChatErrorCodes"/> code and an HTTP status.</summary>
public static class ChatErrors
{
    public static string Code(ChatErrorKind kind) => kind switch
    {
        ChatErrorKind.Invalid => ChatErrorCodes.Invalid,
        ChatErrorKind.NotFound => ChatErrorCodes.NotFound,
        ChatErrorKind.NotMember => ChatErrorCodes.NotMember,
        ChatErrorKind.Forbidden => ChatErrorCodes.Forbidden,
        ChatErrorKind.Muted => ChatErrorCodes.Muted,
        ChatErrorKind.Banned => ChatErrorCodes.Banned,
        ChatErrorKind.RateLimited => ChatErrorCodes.RateLimited,
        ChatErrorKind.ContentRejected => ChatErrorCodes.ContentRejected,
        ChatErrorKind.Conflict => ChatErrorCodes.Conflict,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static int Status(ChatErrorKind kind) => kind switch
    {
        ChatErrorKind.Invalid or ChatErrorKind.ContentRejected => StatusCodes.Status400BadRequest,
        ChatErrorKind.NotMember or ChatErrorKind.Forbidden or ChatErrorKind.Muted or ChatErrorKind.Banned => StatusCodes.Status403Forbidden,
        ChatErrorKind.NotFound => StatusCodes.Status404NotFound,
        ChatErrorKind.Conflict => StatusCodes.Status409Conflict,
        ChatErrorKind.RateLimited => StatusCodes.Status429TooManyRequests,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>RFC 7807 problem details with the <c>code</c> extension the gateway passes on to clients.</summary>
    public static IResult Problem(ChatError error) => TypedResults.Problem(
        statusCode: Status(error.Kind),
        title: Code(error.Kind),
        detail: error.Message,
        extensions: new Dictionary<string, object?> { ["code"] = Code(error.Kind) });

    public static IResult Problem(ChatErrorKind kind, string message) => Problem(new ChatError(kind, message));

    /// <summary>401 for a call without a valid acting player (the gateway always sets the header).</summary>
    public static IResult Unauthenticated() => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: ChatErrorCodes.Invalid,
        detail: $"header {ChatHeaders.PlayerId} is missing or not a valid player id",
        extensions: new Dictionary<string, object?> { ["code"] = ChatErrorCodes.Invalid });
}
