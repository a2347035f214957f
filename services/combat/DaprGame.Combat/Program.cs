using DaprGame.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();

var app = builder.Build();
app.MapServiceDefaults();
app.MapGet("/", () => Results.Ok(new { service = DaprGame.Contracts.AppIds.Combat }));

app.Run();

/// <summary>Entry point, visible to in-process tests.</summary>
public partial class Program;
