using DaprGame.Combat;

// The table of contents is CombatApp.Build (where the simulation core is registered): tests build the same app
// in-process with their own configuration.
CombatApp.Build(args).Run();
