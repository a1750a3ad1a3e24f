// zsend-engine serve / session: many streams over a few connections (docs/protocol.md 5.8).
// The command file fills the TransferJob (its roots, connections and link); these run it and
// return the exit code.
#pragma once

#include "tools/engine/transfer_job.h"

namespace zsend::tool {

int RunServeJob(const TransferJob& job);
int RunSessionJob(const TransferJob& job);

}  // namespace zsend::tool
