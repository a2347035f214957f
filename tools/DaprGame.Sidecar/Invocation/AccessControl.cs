using DaprGame.Sidecar.Components;

namespace DaprGame.Sidecar.Invocation;

/// <summary>
/// The <c>accessControl</c> section of a Configuration, checked on the callee side as daprd does: the policy for the
/// caller's identity (app-id, trust domain, namespace) decides, or else the global default action; operations match
/// the method path with <c>*</c> (one segment) and <c>**</c> (any depth); an operation whose verbs do not include the
/// call's verb (or <c>*</c>) does not apply, leaving the policy's default action.
/// Identity: daprd reads it from the caller's mTLS certificate; local sidecars prove themselves with the peer key
/// instead, and every local app is taken to share the callee's trust domain and the namespace in <c>NAMESPACE</c>
/// (else <c>default</c>), as apps started from one run file do.
/// </summary>
internal static class AccessControl
{
    /// <summary>The namespace local apps run in.</summary>
    public static string Namespace { get; } = Environment.GetEnvironmentVariable("NAMESPACE") is { Length: > 0 } ns ? ns : "default";

    public static bool Allows(AccessControlSpec? spec, string callerAppId, string verb, string path)
    {
        if (spec is null)
        {
            return true;
        }
        foreach (var policy in spec.Policies)
        {
            if (policy.AppId != callerAppId || policy.TrustDomain != spec.TrustDomain || policy.Namespace != Namespace)
            {
                continue;
            }
            foreach (var op in policy.Operations)
            {
                if (Matches(op.Name, path) && (op.HttpVerbs.Count == 0 || op.HttpVerbs.Any(v => v == "*" || v.Equals(verb, StringComparison.OrdinalIgnoreCase))))
                {
                    return IsAllow(op.Action);
                }
            }
            return IsAllow(policy.DefaultAction);
        }
        return IsAllow(spec.DefaultAction);
    }

    private static bool IsAllow(string action) => action.Equals("allow", StringComparison.OrdinalIgnoreCase);

    private static bool Matches(string pattern, string path)
    {
        var p = pattern.Trim('/').Split('/');
        var s = path.Trim('/').Split('/');
        return Match(p, 0, s, 0);
    }

    private static bool Match(string[] p, int i, string[] s, int j)
    {
        if (i == p.Length)
        {
            return j == s.Length;
        }
        if (p[i] == "**")
        {
            for (var k = j; k <= s.Length; k++)
            {
                if (Match(p, i + 1, s, k))
                {
                    return true;
                }
            }
            return false;
        }
        return j < s.Length && (p[i] == "*" || p[i] == s[j]) && Match(p, i + 1, s, j + 1);
    }
}
