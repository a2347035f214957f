using DaprGame.Combat.Domain.FixedPoint;

namespace DaprGame.Combat.Domain.Rules;

/// <summary>An axis-aligned wall, in whole world units.</summary>
internal readonly record struct Obstacle(int MinX, int MinY, int MaxX, int MaxY);

/// <summary>A map: its size in world units (positions run from 0 to the size), walls and player spawn points.</summary>
/// <remarks>Arrays, not lists: movement checks every wall for every entity each tick, and a foreach over an
/// interface would allocate an enumerator each time.</remarks>
internal sealed record MapDefinition(string Name, int Width, int Height, Obstacle[] Obstacles, (int X, int Y)[] SpawnPoints)
{
    public static readonly MapDefinition Arena = new("arena", 64, 64,
        [new(14, 14, 20, 20), new(44, 14, 50, 20), new(14, 44, 20, 50), new(44, 44, 50, 50), new(30, 28, 34, 36)],
        [(4, 4), (60, 4), (4, 60), (60, 60), (32, 6), (32, 58), (6, 32), (58, 32)]);

    public static readonly MapDefinition Plaza = new("plaza", 160, 160,
        [new(30, 30, 50, 40), new(110, 30, 130, 40), new(30, 120, 50, 130), new(110, 120, 130, 130), new(70, 70, 90, 90), new(0, 78, 20, 82), new(140, 78, 160, 82)],
        [(10, 10), (150, 10), (10, 150), (150, 150), (80, 20), (80, 140), (20, 100), (140, 60)]);

    public static readonly MapDefinition Field = new("field", 512, 512,
        [new(100, 100, 140, 110), new(372, 100, 412, 110), new(100, 402, 140, 412), new(372, 402, 412, 412), new(236, 236, 276, 276), new(250, 0, 262, 60), new(250, 452, 262, 512)],
        [(20, 20), (492, 20), (20, 492), (492, 492), (256, 150), (256, 362), (150, 256), (362, 256)]);

    public static readonly IReadOnlyList<MapDefinition> All = [Arena, Plaza, Field];

    public static MapDefinition? Find(string name)
    {
        foreach (var map in All)
        {
            if (map.Name == name)
            {
                return map;
            }
        }
        return null;
    }

    /// <summary>Whether a circle of <paramref name="radius"/> at (x, y) overlaps a wall (walls grown by the radius; corners count as square).</summary>
    public bool Blocked(Fix x, Fix y, Fix radius)
    {
        for (var i = 0; i < Obstacles.Length; i++)
        {
            ref readonly var o = ref Obstacles[i];
            if (x > Fix.FromInt(o.MinX) - radius && x < Fix.FromInt(o.MaxX) + radius &&
                y > Fix.FromInt(o.MinY) - radius && y < Fix.FromInt(o.MaxY) + radius)
            {
                return true;
            }
        }
        return false;
    }

    public bool InBounds(Fix x, Fix y, Fix radius) =>
        x >= radius && y >= radius && x <= Fix.FromInt(Width) - radius && y <= Fix.FromInt(Height) - radius;
}
