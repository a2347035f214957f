using DaprGame.Gateway;

// The table of contents is GatewayApp.Build: tests build the same app in-process with their own configuration.
GatewayApp.Build(args).Run();
