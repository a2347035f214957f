using DaprGame.Sidecar.Components;

namespace DaprGame.Sidecar.Invocation;

/// <summary>
/// The <c>accessControl</c> section of a Configuration, checked on the callee side as daprd does: the caller's
/// policy (or the default action) decides, operations match the method path with <c>*</c> (one segment) and
/// <c>**</c> (any depth), and a verb list of <c>*</c> matches every verb. Trust domains and namespaces are not
/// checked: every local app is in trust domain <c>public</c>, namespace <c>default</c>.
/// </summary>
internal static class AccessControl
{
    public static bool Allows(AccessControlSpec? spec, string callerAppId, string verb, string path)
    {
        if (spec is null)
        {
            return true;
        }
        foreach (var policy in spec.Policies)
        {
            if (policy.AppId != callerAppId)
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
