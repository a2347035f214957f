using DaprGame.Trading;

// The table of contents is TradingApp.Build: tests build the same app in-process with their own configuration.
TradingApp.Build(args).Run();
