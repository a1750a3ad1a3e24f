// Files created beside a path the user named (FILE.partial, the temporary file of an atomic
// replace): never through a symlink planted there, never readable by others.
//
// CreatePrivateFile opens `path` with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 (umask aside).
// A name already there (a stale file of a killed run, or a symlink someone planted) is
// unlinked first (the link itself, never what it points to) and the create is retried once, so
// losing that race is an error, not a write through someone else's link.
//
// WriteFileAtomically writes `content` to `path` through CreatePrivateFile("PATH.tmp.<pid>"),
// fsync and rename; `mode` is set on the temporary file before the rename.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/status.h"
#include "base/unique_fd.h"

namespace zsend {

Result<UniqueFd> CreatePrivateFile(const std::string& path);

Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode = 0600);

}  // namespace zsend
