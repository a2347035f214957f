using System.Net.Sockets;
using DaprGame.Testing.Servers;

namespace DaprGame.Sidecar.Tests;

public sealed class ServerFixtureTests
{
    [Fact]
    public async Task Redis_and_postgres_fixtures_start_on_loopback_and_stop()
    {
        var redis = new RedisServer();
        var pg = new PostgresServer();
        await redis.InitializeAsync();
        await pg.InitializeAsync();
        using (var c = new TcpClient())
        {
            await c.ConnectAsync("127.0.0.1", redis.Port, TestContext.Current.CancellationToken);
        }
        using (var c = new TcpClient())
        {
            await c.ConnectAsync("127.0.0.1", pg.Port, TestContext.Current.CancellationToken);
        }
        await redis.DisposeAsync();
        await pg.DisposeAsync();
    }
}
