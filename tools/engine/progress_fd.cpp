#include "tools/engine/progress_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "base/engine_contract.h"

namespace zsend::tool {

Status CheckProgressFd(int fd) {
  if (fd < 0) return Status();
  if (fcntl(fd, F_GETFD) < 0) {
    return InvalidArgument("--progress-fd " + std::to_string(fd) +
                           ": not an open descriptor; open it for writing before starting "
                           "the engine (e.g. 3>FILE)");
  }
  return Status();
}

void ProgressFd::Write(uint64_t stream_bytes, double seconds) const {
  if (fd_ < 0) return;
  std::string line = engine_contract::FormatProgressLine({stream_bytes, seconds}) + "\n";
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace zsend::tool
