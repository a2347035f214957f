using System.Net;
using System.Text;
using System.Text.Json;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using Google.Protobuf;
using Grpc.Net.Client;
using Proto = Dapr.Client.Autogen.Grpc.v1;

namespace DaprGame.Sidecar.Tests.Actors;

/// <summary>The actor routes as raw HTTP and gRPC callers see them: verbs, echoes, error codes.</summary>
[Collection("actors")]
public sealed class ActorHttpApiTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-actors-").FullName;
    private readonly HttpClient _http = new();
    private ActorNode _node = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _node = await ActorNode.StartAsync("api", ActorNode.SqliteResources(Path.Combine(_folder, "actors.db")), new SidecarEnvironment { Registry = new InProcessAppRegistry() });

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _node.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private string Url(string id, string rest) => $"{_node.HttpEndpoint}/v1.0/actors/TestActor/{id}/{rest}";

    [Fact]
    public async Task Any_verb_on_the_method_route_reaches_the_app_as_PUT()
    {
        var id = Guid.NewGuid().ToString("N");
        using var response = await _http.GetAsync(Url(id, "method/WhereAsync"), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"api\"", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task An_unhosted_type_and_a_missing_method_answer_ERR_ACTOR_INVOKE_METHOD()
    {
        using var unhosted = await _http.PutAsync($"{_node.HttpEndpoint}/v1.0/actors/NoSuchType/x/method/M", null, Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, unhosted.StatusCode);
        Assert.Contains("ERR_ACTOR_INVOKE_METHOD", await unhosted.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        using var missing = await _http.PutAsync(Url("x", "method/NoSuchMethod"), null, Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
        Assert.Contains("ERR_ACTOR_INVOKE_METHOD", await missing.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reminder_is_echoed_byte_for_byte_and_a_missing_one_is_404()
    {
        var id = Guid.NewGuid().ToString("N");
        const string body = """{"dueTime":"2099-01-02T03:04:05Z","period":"R3/PT1M","data":{"a":[1,2]},"ttl":"PT2H"}""";
        using (var put = await _http.PutAsync(Url(id, "reminders/echo"), new StringContent(body, Encoding.UTF8, "application/json"), Ct))
        {
            Assert.True(put.StatusCode == HttpStatusCode.NoContent, await put.Content.ReadAsStringAsync(Ct));
        }
        using var doc = JsonDocument.Parse(await _http.GetStringAsync(Url(id, "reminders/echo"), Ct));
        var r = doc.RootElement;
        Assert.Equal(id, r.GetProperty("actorID").GetString());
        Assert.Equal("TestActor", r.GetProperty("actorType").GetString());
        Assert.Equal("2099-01-02T03:04:05Z", r.GetProperty("dueTime").GetString());
        Assert.Equal("R3/PT1M", r.GetProperty("period").GetString());
        Assert.Equal("PT2H", r.GetProperty("ttl").GetString());
        Assert.Equal("""{"a":[1,2]}""", r.GetProperty("data").GetRawText());

        using (var delete = await _http.DeleteAsync(Url(id, "reminders/echo"), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        using var gone = await _http.GetAsync(Url(id, "reminders/echo"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains("ERR_ACTOR_REMINDER_NOT_FOUND", await gone.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"dueTime":"5 seconds"}""")]
    [InlineData("""{"period":"P1D"}""")]
    [InlineData("""{"period":"R0/PT1S"}""")]
    public async Task An_unparseable_schedule_is_refused_with_ERR_ACTOR_REMINDER_CREATE(string body)
    {
        using var put = await _http.PutAsync(Url("bad", "reminders/r"), new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, put.StatusCode);
        Assert.Contains("ERR_ACTOR_REMINDER_CREATE", await put.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task State_and_timers_need_the_actor_to_be_active_here()
    {
        using var state = await _http.GetAsync(Url("inactive", "state/count"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, state.StatusCode);
        Assert.Contains("ERR_ACTOR_INSTANCE_MISSING", await state.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        using var timer = await _http.PutAsync(Url("inactive", "timers/t"), new StringContent("""{"dueTime":"1s","callback":"OnTimerAsync"}"""), Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, timer.StatusCode);
        Assert.Contains("ERR_ACTOR_TIMER_CREATE", await timer.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gRPC_actor_methods_invoke_read_state_and_manage_reminders()
    {
        using var channel = GrpcChannel.ForAddress(_node.Sidecar!.Host.GrpcEndpoint);
        var client = new Proto.Dapr.DaprClient(channel);
        var id = Guid.NewGuid().ToString("N");
        var invoked = await client.InvokeActorAsync(new Proto.InvokeActorRequest { ActorType = "TestActor", ActorId = id, Method = "IncrementAsync" }, cancellationToken: Ct);
        Assert.Equal("1", invoked.Data.ToStringUtf8());
        var state = await client.GetActorStateAsync(new Proto.GetActorStateRequest { ActorType = "TestActor", ActorId = id, Key = "count" }, cancellationToken: Ct);
        Assert.Equal("1", state.Data.ToStringUtf8());

        await client.RegisterActorReminderAsync(new Proto.RegisterActorReminderRequest
        {
            ActorType = "TestActor", ActorId = id, Name = "g", DueTime = "1h", Period = "30m", Data = ByteString.CopyFrom([1, 2, 3]),
        }, cancellationToken: Ct);
        var reminder = await client.GetActorReminderAsync(new Proto.GetActorReminderRequest { ActorType = "TestActor", ActorId = id, Name = "g" }, cancellationToken: Ct);
        Assert.Equal("1h", reminder.DueTime);
        Assert.Equal("30m", reminder.Period);
        Assert.Equal(new byte[] { 1, 2, 3 }, reminder.Data.Value.ToByteArray());
        var exists = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await client.RegisterActorReminderAsync(new Proto.RegisterActorReminderRequest
        {
            ActorType = "TestActor", ActorId = id, Name = "g", DueTime = "1h", Overwrite = false,
        }, cancellationToken: Ct));
        Assert.Equal(Grpc.Core.StatusCode.AlreadyExists, exists.StatusCode);
        await client.UnregisterActorReminderAsync(new Proto.UnregisterActorReminderRequest { ActorType = "TestActor", ActorId = id, Name = "g" }, cancellationToken: Ct);
    }
}
