// The receiving side's consumers: stdout, a file (written as FILE.partial and renamed into
// place only after the stream verified), or a process (`zfs recv ...`) fed on its stdin.
//
// Each is a Consumer (transfer_receiver.h): Finish() on verified success, Abandon() otherwise
// (stdout: nothing can be taken back, the program exits non-zero; file: the partial file is
// removed; process: SIGTERM first, then its stdin is closed, so it never sees a clean end).
// One thread at a time (the pipeline's writer, then the caller).
#pragma once

#include <memory>
#include <string>

#include "engine/ring/fd_stream.h"
#include "engine/transfer/child_process.h"
#include "engine/transfer/transfer_receiver.h"

namespace zsend {

Result<std::unique_ptr<Consumer>> MakeStdoutConsumer(const FdStreamOptions& io);
Result<std::unique_ptr<Consumer>> MakeFileConsumer(const std::string& path,
                                                   const FdStreamOptions& io);
Result<std::unique_ptr<Consumer>> MakeProcessConsumer(const std::string& command, bool echo_stderr);
Result<std::unique_ptr<Consumer>> MakeProcessConsumer(const std::vector<std::string>& argv,
                                                      bool echo_stderr);

}  // namespace zsend
