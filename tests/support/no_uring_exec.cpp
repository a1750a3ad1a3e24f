// zsend-no-uring PROGRAM [ARGS...]: runs PROGRAM where io_uring is refused.
//
// Installs a seccomp filter that makes io_uring_setup(2) fail with EPERM, as a container
// runtime's default profile does, then execs its arguments. The filter is inherited across
// exec, so the tests can check that zsend-engine falls back to plain system calls.
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

#if defined(__x86_64__)
constexpr unsigned kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "zsend-no-uring: add this architecture's AUDIT_ARCH value"
#endif

bool RefuseIoUring() {
  sock_filter program[] = {
      // A foreign architecture's system call numbers mean something else: refuse them all.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog filter{};
  filter.len = static_cast<unsigned short>(sizeof program / sizeof program[0]);
  filter.filter = program;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: zsend-no-uring PROGRAM [ARGS...]\n");
    return 2;
  }
  if (!RefuseIoUring()) {
    std::fprintf(stderr, "zsend-no-uring: cannot install the seccomp filter: %s\n",
                 std::strerror(errno));
    return 1;
  }
  execvp(argv[1], argv + 1);
  std::fprintf(stderr, "zsend-no-uring: cannot run %s: %s\n", argv[1], std::strerror(errno));
  return 127;
}
