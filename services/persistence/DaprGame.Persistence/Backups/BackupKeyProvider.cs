using Dapr.Client;
using DaprGame.Persistence.Domain.Backup;
using DaprGame.Persistence.Infrastructure;
using Microsoft.Extensions.Options;

namespace DaprGame.Persistence.Backups;

/// <summary>
/// The backup master key, read from the Dapr secret store on each use (a rotated secret takes effect without a
/// restart; archives name the key's fingerprint, so one written under another key is reported as such). Never logged.
/// </summary>
public sealed class BackupKeyProvider(DaprClient dapr, IOptions<PersistenceOptions> options)
{
    private readonly PersistenceOptions _options = options.Value;

    public async Task<BackupKey> GetAsync(CancellationToken cancellationToken)
    {
        var secret = await dapr.GetSecretAsync(_options.SecretStore, _options.BackupKeySecret, cancellationToken: cancellationToken);
        var hex = secret.TryGetValue(_options.BackupKeySecret, out var v) ? v : secret.Count == 1 ? secret.Values.First() : null;
        return string.IsNullOrWhiteSpace(hex)
            ? throw new InvalidOperationException($"secret {_options.BackupKeySecret} in {_options.SecretStore} holds no key")
            : BackupKey.FromHex(hex.Trim());
    }
}
