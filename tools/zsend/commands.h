// The subcommands of zsend. Each Register function adds its subcommand and options to the app
// and, when that subcommand is chosen, sets `*run` to the function that carries it out once
// parsing succeeded (returning the exit code). main.cpp registers each with one line.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace zsend::cli {

using CommandRun = std::function<int()>;

void RegisterBackupCommand(CLI::App& app, CommandRun* run);
void RegisterStatusCommand(CLI::App& app, CommandRun* run);
void RegisterHistoryCommand(CLI::App& app, CommandRun* run);
void RegisterCheckCommand(CLI::App& app, CommandRun* run);
void RegisterReportCommand(CLI::App& app, CommandRun* run);
void RegisterPruneCommand(CLI::App& app, CommandRun* run);
void RegisterListCommand(CLI::App& app, CommandRun* run);
void RegisterRestoreCommand(CLI::App& app, CommandRun* run);
void RegisterVerifyCommand(CLI::App& app, CommandRun* run);
void RegisterDigestTreeCommand(CLI::App& app, CommandRun* run);
void RegisterDaemonCommand(CLI::App& app, CommandRun* run);
void RegisterJobsCommand(CLI::App& app, CommandRun* run);

}  // namespace zsend::cli
