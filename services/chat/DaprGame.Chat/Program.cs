using DaprGame.Chat;

// The table of contents is ChatApp.Build: tests build the same app in-process with their own configuration.
ChatApp.Build(args).Run();
