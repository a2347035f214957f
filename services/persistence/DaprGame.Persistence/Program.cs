using DaprGame.Persistence;

// The table of contents is PersistenceApp.Build: tests build the same app in-process with their own configuration.
PersistenceApp.Build(args).Run();
