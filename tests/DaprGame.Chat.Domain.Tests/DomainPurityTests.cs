using DaprGame.Chat.Domain.Channels;

namespace DaprGame.Chat.Domain.Tests;

public sealed class DomainPurityTests
{
    [Fact]
    public void The_domain_references_no_web_framework_no_dapr_and_no_serializer()
    {
        var references = typeof(ChatChannel).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.Contains("DaprGame.Contracts", references);
        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r.StartsWith("Dapr.", StringComparison.Ordinal));
        Assert.DoesNotContain("System.Text.Json", references);
        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.Extensions", StringComparison.Ordinal));
    }
}
