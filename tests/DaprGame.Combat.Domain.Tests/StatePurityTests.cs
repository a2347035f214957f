using System.Reflection;
using DaprGame.Combat.Domain.Rules;

namespace DaprGame.Combat.Domain.Tests;

public sealed class StatePurityTests
{
    private static readonly Type[] FloatingPoint = [typeof(float), typeof(double), typeof(decimal), typeof(Half)];

    [Fact]
    public void No_floating_point_type_is_part_of_the_simulation_state()
    {
        var found = FloatingFields(typeof(Match));

        Assert.Empty(found);
    }

    [Fact]
    public void The_walk_reaches_the_state_types_and_finds_a_float_hidden_in_them()
    {
        var visited = new HashSet<Type>();
        FloatingFields(typeof(Match), visited);
        Assert.Contains(typeof(Body), visited);
        Assert.Contains(typeof(Fighter), visited);
        Assert.Contains(typeof(Projectile), visited);
        Assert.Contains(typeof(FixedPoint.DeterministicRandom), visited);
        Assert.Contains(typeof(Snapshots.EntityState), visited);

        var found = FloatingFields(typeof(Holder));
        Assert.Equal(["Holder._items<Inner>._speeds[]"], found);
    }

    [Fact]
    public void The_domain_references_no_web_framework_no_dapr_and_no_serializer()
    {
        var references = Assembly.Load("DaprGame.Combat.Domain").GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r.StartsWith("Dapr.", StringComparison.Ordinal));
        Assert.DoesNotContain("System.Text.Json", references);
        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.Extensions", StringComparison.Ordinal));
    }

    private static List<string> FloatingFields(Type root, HashSet<Type>? visited = null)
    {
        var found = new List<string>();
        Walk(root, root.Name, visited ?? [], found);
        return found;
    }

    /// <summary>
    /// Every instance field, recursively: types of the domain (or this test's samples) are opened up; arrays and
    /// generic collections are followed into their element and argument types.
    /// </summary>
    private static void Walk(Type type, string path, HashSet<Type> visited, List<string> found)
    {
        if (FloatingPoint.Contains(type))
        {
            found.Add(path);
            return;
        }
        if (!visited.Add(type) || type.IsPrimitive || type.IsEnum || type == typeof(string) || type.IsPointer)
        {
            return;
        }
        if (type.IsArray || type.IsByRef)
        {
            Walk(type.GetElementType()!, path + "[]", visited, found);
            return;
        }
        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                Walk(argument, $"{path}<{argument.Name}>", visited, found);
            }
        }
        var ours = type.Assembly == typeof(Match).Assembly || type.Assembly == typeof(StatePurityTests).Assembly;
        if (!ours)
        {
            return;
        }
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            Walk(field.FieldType, $"{path}.{field.Name}", visited, found);
        }
    }

    private sealed class Holder
    {
#pragma warning disable CS0649, CS0169, IDE0044, IDE0051
        private readonly List<Inner> _items = [];
#pragma warning restore CS0649, CS0169, IDE0044, IDE0051

        public int Count => _items.Count;
    }

    private struct Inner
    {
#pragma warning disable CS0649, CS0169, IDE0044, IDE0051
        private float[] _speeds;
#pragma warning restore CS0649, CS0169, IDE0044, IDE0051

        public readonly int Count => _speeds.Length;
    }
}
