// Process signals for the programs: SIGINT/SIGTERM set a flag the pipeline monitor polls, so a
// run stops promptly and exits 128 + signal; SIGPIPE is ignored so a closed output becomes an
// EPIPE write error with a message rather than a silent death.
#pragma once

namespace zsend::tool {

void InstallStopSignals();
// The signal that asked us to stop, or 0.
int StopSignal();

}  // namespace zsend::tool
