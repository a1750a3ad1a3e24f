#include "engine/wire/channel.h"

namespace zsend {

Status Channel::ReadExact(void* buf, size_t n, size_t* got) {
  auto* p = static_cast<char*>(buf);
  size_t done = 0;
  if (got != nullptr) *got = 0;
  while (done < n) {
    Result<size_t> r = ReadSome(p + done, n - done);
    if (!r.ok()) return r.status();
    if (*r == 0) return Unavailable(name() + ": connection closed by the peer");
    done += *r;
    if (got != nullptr) *got = done;
  }
  return Status::Ok();
}

}  // namespace zsend
