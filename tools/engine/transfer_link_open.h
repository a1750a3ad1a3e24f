// The link of a transfer: the one place that turns `send`/`recv` flags (--listen, --connect,
// --ssh, --stdio and their options) into a LinkSpec (transports/link.h) for OpenLink().
#pragma once

#include <string>

#include "base/status.h"
#include "tools/engine/transfer_job.h"
#include "transports/link.h"

namespace zsend::tool {

// Exactly one link, and its addresses, port and ssh host well formed: a bad one is a usage
// error (2), found before any key is read or socket opened.
Status ValidateLinkFlags(const TransferJob& job);

// The link the flags name (ValidateLinkFlags passed). `pubkey`: our public key in text form,
// for a listener's --announce line.
LinkSpec LinkSpecFor(const TransferJob& job, const std::string& pubkey);

}  // namespace zsend::tool
