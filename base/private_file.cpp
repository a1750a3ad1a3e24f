#include "base/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace zsend {

Result<UniqueFd> CreatePrivateFile(const std::string& path) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(::open(path.c_str(), kFlags, 0600));
  if (!fd.valid() && errno == EEXIST) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("cannot remove the stale " + path, errno);
    }
    fd = UniqueFd(::open(path.c_str(), kFlags, 0600));
  }
  if (!fd.valid()) return ErrnoStatus("cannot create " + path, errno);
  // open's mode is subject to the umask; a umask never widens 0600, but be exact.
  if (::fchmod(fd.get(), 0600) != 0) return ErrnoStatus("cannot chmod " + path, errno);
  return fd;
}

Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  Result<UniqueFd> fd = CreatePrivateFile(temporary);
  if (!fd.ok()) return fd.status();
  Status status = Status::Ok();
  size_t done = 0;
  while (status.ok() && done < content.size()) {
    ssize_t n = ::write(fd->get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = ErrnoStatus("cannot write " + temporary, errno);
    } else {
      done += static_cast<size_t>(n);
    }
  }
  if (status.ok() && mode != 0600 && ::fchmod(fd->get(), mode) != 0) {
    status = ErrnoStatus("cannot chmod " + temporary, errno);
  }
  if (status.ok() && ::fsync(fd->get()) != 0) {
    status = ErrnoStatus("cannot flush " + temporary, errno);
  }
  fd->reset();
  if (status.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("cannot rename " + temporary + " to " + path, errno);
  }
  if (!status.ok()) ::unlink(temporary.c_str());
  return status;
}

}  // namespace zsend
