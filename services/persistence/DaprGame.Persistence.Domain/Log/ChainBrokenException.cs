namespace DaprGame.Persistence.Domain.Log;

/// <summary>A log whose hash chain does not hold was offered as the log to continue: <see cref="Report"/> says where.</summary>
public sealed class ChainBrokenException(ChainReport report)
    : Exception($"the log's hash chain is broken at position {report.FirstBadPosition}: {report.Problem}")
{
    public ChainReport Report { get; } = report;
}
