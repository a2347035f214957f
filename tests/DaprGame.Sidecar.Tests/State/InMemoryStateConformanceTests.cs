using Grpc.Core;

namespace DaprGame.Sidecar.Tests.State;

/// <summary>state.in-memory: first-write refuses any existing key with an ETag mismatch (Aborted); lost on restart.</summary>
public sealed class InMemoryStateConformanceTests : StateStoreConformance
{
    protected override string ComponentType => "state.in-memory";

    protected override bool Persistent => false;

    protected override IReadOnlyDictionary<string, string> ComponentMetadata(string appId) => new Dictionary<string, string>();

    protected override StatusCode? FirstWriteConflict(bool keyWrittenWithFirstWrite) => StatusCode.Aborted;

    protected override Task<IReadOnlyList<string>?> RawKeysAsync(string appId) => Task.FromResult<IReadOnlyList<string>?>(null);
}
