// The subcommands of zsend-engine. Each registers its options on the app and sets `*run` to
// the function that carries it out once parsing succeeded (returning the exit code).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace zsend::tool {

using CommandRun = std::function<int()>;

void RegisterBufferCommand(CLI::App& app, CommandRun* run);
void RegisterKeygenCommand(CLI::App& app, CommandRun* run);
void RegisterSendCommand(CLI::App& app, CommandRun* run);
void RegisterRecvCommand(CLI::App& app, CommandRun* run);
void RegisterServeCommand(CLI::App& app, CommandRun* run);
void RegisterSessionCommand(CLI::App& app, CommandRun* run);
void RegisterBenchCommand(CLI::App& app, CommandRun* run);
void RegisterVersionCommand(CLI::App& app, CommandRun* run);

// The mbuffer personality: argv in mbuffer's own syntax.
int MbufferMain(int argc, char** argv);

}  // namespace zsend::tool
