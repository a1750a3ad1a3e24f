#include "tools/engine/transfer_link_open.h"

#include "transports/tcp.h"

namespace zsend::tool {

Status ValidateLinkFlags(const TransferJob& job) {
  const int links =
      !job.listen.empty() + !job.connect.empty() + !job.ssh_host.empty() + (job.stdio ? 1 : 0);
  if (links != 1)
    return InvalidArgument("give exactly one of --listen, --connect, --ssh or --stdio");
  if (!job.connect.empty()) {
    Result<HostPort> hp = ParseHostPort(job.connect, false);
    if (!hp.ok()) return hp.status().WithContext("--connect");
  }
  if (!job.listen.empty()) {
    Result<HostPort> hp = ParseHostPort(job.listen, true);
    if (!hp.ok()) return hp.status().WithContext("--listen");
  }
  if (!job.ssh_port.empty()) {
    Result<HostPort> hp = ParseHostPort(job.ssh_port, true);
    if (!hp.ok() || !hp->host.empty() || hp->port == "0" || hp->port[0] == '0') {
      return InvalidArgument("--ssh-port takes a port number from 1 to 65535, got '" +
                             job.ssh_port + "'");
    }
  }
  if (!job.ssh_host.empty() && job.ssh_host[0] == '-') {
    return InvalidArgument("--ssh '" + job.ssh_host + "': a host cannot start with '-'");
  }
  if (!job.remote_args.empty() && job.ssh_host.empty()) {
    return InvalidArgument("arguments after -- are for the far side of --ssh; --ssh is missing");
  }
  return Status::Ok();
}

LinkSpec LinkSpecFor(const TransferJob& job, const std::string& pubkey) {
  LinkSpec spec;
  spec.timeout_seconds = job.transfer.timeout_seconds;
  if (!job.connect.empty()) {
    spec.kind = LinkKind::kConnect;
    spec.address = job.connect;
  } else if (!job.listen.empty()) {
    spec.kind = LinkKind::kListen;
    spec.address = job.listen;
    spec.announce = job.announce;
    spec.announce_pubkey = pubkey;
    spec.quiet = job.quiet;
  } else if (!job.ssh_host.empty()) {
    spec.kind = LinkKind::kSsh;
    spec.ssh = {job.ssh_host,
                job.ssh_port,
                job.ssh_options,
                job.remote_engine,
                job.session_client ? "serve"
                : job.send         ? "recv"
                                   : "send",
                job.remote_args};
  } else {
    spec.kind = LinkKind::kStdio;
  }
  return spec;
}

}  // namespace zsend::tool
