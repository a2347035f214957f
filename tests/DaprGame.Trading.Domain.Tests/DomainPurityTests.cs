using System.Reflection;

namespace DaprGame.Trading.Domain.Tests;

public sealed class DomainPurityTests
{
    [Fact]
    public void The_domain_references_no_web_framework_no_dapr_and_no_serializer()
    {
        var references = Assembly.Load("DaprGame.Trading.Domain").GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r.StartsWith("Dapr.", StringComparison.Ordinal));
        Assert.DoesNotContain("System.Text.Json", references);
        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.Extensions", StringComparison.Ordinal));
    }
}
