// ZfsDialect: what one host's `zfs` command accepts, and the send/recv argv built from it.
//
// Two families exist in the wild. OpenZFS (Linux, FreeBSD, illumos/SmartOS) has parsable
// listings (`list -p`), typed gets (`get -t`), atomic multi-name `snapshot`, batched
// `destroy ds@a,b`, `holds -H`, resumable receives (`recv -s`, `send -t`, `recv -A`), property
// overrides on receive (`recv -o/-x`), unmounted receives (`recv -u`), bookmarks and the
// raw/compressed/large-block/embedded send flags (-w -c -L -e) with parsable progress (-P).
// The older kind (zfs-fuse, early Solaris-derived ports) has none of those: one snapshot name
// per call, `send [-RDp] [-iI]`, `receive [-vnF]`. Its `zfs holds` is listed but broken on
// Debian's zfs-fuse, so `holds_list` follows the -H flag, which only working versions show.
//
// The dialect is read from the usage text (`zfs -?`): every command's usage lines list the
// flags it takes, so one read-only call answers every question without a scratch dataset.
// Values, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace zsend::orchestrator {

struct ZfsDialect {
  std::string family;                    // "openzfs" or "legacy" (for messages)
  bool list_parsable = false;            // zfs list -p
  bool get_types = false;                // zfs get -t filesystem,volume
  bool snapshot_multiple = false;        // zfs snapshot a@x b@x (atomic)
  bool destroy_batched = false;          // zfs destroy ds@a,b,c
  bool holds_list = false;               // zfs holds -H
  bool bookmarks = false;                // zfs bookmark
  bool recv_unmounted = false;           // recv -u
  bool recv_resumable = false;           // recv -s, recv -A, receive_resume_token, send -t
  bool recv_set_properties = false;      // recv -o
  bool recv_exclude_properties = false;  // recv -x
  bool send_raw = false;                 // send -w
  bool send_compressed = false;          // send -c
  bool send_large_blocks = false;        // send -L
  bool send_embedded = false;            // send -e
  bool send_parsable = false;            // send -P

  static ZfsDialect OpenZfs();  // every feature above
  static ZfsDialect Legacy();   // none of them
};

// Flags per command as listed by a zfs usage text: {"send": {'D','L','P',...}, ...}.
std::map<std::string, std::set<char>> ParseUsageFlags(const std::string& usage);

// The dialect described by a zfs usage text (`zfs -?` output); an error when the text does
// not look like zfs usage at all.
Result<ZfsDialect> DialectFromUsage(const std::string& usage);

// What to send. `snapshot` is the full name of the newest snapshot in the stream.
struct SendSpec {
  std::string snapshot;            // "pool/fs@to"
  std::string from;                // "" for a full stream, else "pool/fs@from" (or "#bookmark")
  bool intermediates = false;      // -I (every snapshot between) instead of -i
  bool replicate = false;          // -R: descendants, their snapshots and clones too
  std::string resume_token;        // non-empty: `zfs send -t TOKEN`; the fields above are unused
  bool properties = true;          // -p: include dataset properties
  bool raw = false;                // -w: encrypted datasets as they are (required, not optional)
  bool compressed = true;          // -c where the dialect has it
  bool large_blocks = true;        // -L where the dialect has it
  bool embedded = true;            // -e where the dialect has it
  bool parsable_progress = false;  // -P where the dialect has it
};

// The `zfs send ...` argv; an error for a resume token or raw send the dialect cannot do.
// The byte count of `zfs send -nP` output (OpenZFS: the last line "size\t<bytes>", after a
// "full" or "incremental" line); 0 when there is none.
uint64_t ParseSendEstimate(const std::string& text);

Result<std::vector<std::string>> BuildSendArgv(const ZfsDialect& dialect, const SendSpec& spec);

struct RecvSpec {
  std::string target;     // dataset to receive into
  bool force = false;     // -F: roll back / destroy what differs (only when asked)
  bool unmounted = true;  // -u where the dialect has it
  bool resumable = true;  // -s where the dialect has it
  std::vector<std::pair<std::string, std::string>> set_properties;  // --set-properties
  std::vector<std::string> filter_properties;                       // --filter-properties
  bool clear_mountpoint = false;                                    // canmount=noauto
  bool readonly = false;                                            // readonly=on
  bool clear_refreservation = false;                                // refreservation=none
};

// A receive as the dialect can do it: what it cannot say on the command line is done right
// after the receive by `zfs set` / `zfs inherit` on the target (documented fallback).
struct RecvCommand {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> set_after;  // zfs set P=V target
  std::vector<std::string> inherit_after;                      // zfs inherit P target
};

RecvCommand BuildRecvCommand(const ZfsDialect& dialect, const RecvSpec& spec);

}  // namespace zsend::orchestrator
