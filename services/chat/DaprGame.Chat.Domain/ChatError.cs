namespace DaprGame.Chat.Domain;

/// <summary>Why a chat command was refused. The host maps each kind to an HTTP status and an error code once, at the edge.</summary>
public enum ChatErrorKind
{
    Invalid,
    NotFound,
    NotMember,
    Forbidden,
    Muted,
    Banned,
    RateLimited,
    ContentRejected,
    Conflict,
}

/// <summary>A refused command: nothing was changed.</summary>
public sealed record ChatError(ChatErrorKind Kind, string Message)
{
    public static ChatError Invalid(string message) => new(ChatErrorKind.Invalid, message);

    public static ChatError NotFound(string message) => new(ChatErrorKind.NotFound, message);

    public static ChatError NotMember(string message = "not a member of this channel") => new(ChatErrorKind.NotMember, message);

    public static ChatError Forbidden(string message) => new(ChatErrorKind.Forbidden, message);

    public static ChatError Conflict(string message) => new(ChatErrorKind.Conflict, message);
}

/// <summary>Either a value or the <see cref="ChatError"/> that refused the command.</summary>
public readonly record struct ChatOutcome<T>
{
    private ChatOutcome(T? value, ChatError? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public ChatError? Error { get; }

    public bool IsSuccess => Error is null;

    public static implicit operator ChatOutcome<T>(T value) => new(value, null);

    public static implicit operator ChatOutcome<T>(ChatError error) => new(default, error);

    /// <summary>The value, or an exception naming the error (for tests and callers that already checked).</summary>
    public T GetValueOrThrow() => Error is null ? Value! : throw new InvalidOperationException($"{Error.Kind}: {Error.Message}");
}
