using System.Reflection;

namespace DaprGame.Persistence.Domain.Tests;

public sealed class DomainPurityTests
{
    // System.Text.Json is allowed here, unlike in the other domains: this domain's input is event JSON (hashed as bytes,
    // read by the views), and it uses the reader only — no serializer attributes, no contract types.
    [Fact]
    public void The_domain_references_no_web_framework_no_dapr_and_no_extensions()
    {
        var references = Assembly.Load("DaprGame.Persistence.Domain").GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r.StartsWith("Dapr", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.Extensions", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r.StartsWith("DaprGame.", StringComparison.Ordinal));
    }
}
