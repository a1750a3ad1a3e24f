// Job configuration: named jobs in a JSON file, each holding command-line options, so that
// `zsend backup --config FILE JOB` (and prune, check, status...) need no long command lines.
//
//   {
//     "defaults": { "state-dir": "/var/lib/zsend", "mail-to": ["ops@example.com"] },
//     "jobs": {
//       "nightly": {
//         "target": "backup/nightly",          // TARGET_PATH
//         "backup-name": "nightly",            // BACKUP_NAME (default: the job's name)
//         "ssh-target": "root@nas", "keep-source": "10", "keep-target": "10,1d1w,1w1m,1m1y",
//         "no-holds": true
//       }
//     }
//   }
//
// Keys are the long option names without "--". Values: a string or number (one value), true
// (a flag; false leaves it off), or an array (a repeatable option). A job's keys override
// "defaults"; options given on the command line override both (the CLI applies only the keys
// whose option was not given). Comments are not JSON: the example above shows them only for
// the reader. See docs/configuration.md.
//
// Pure parsing, thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace zsend::orchestrator {

struct JobConfig {
  std::string job;          // the name looked up
  std::string backup_name;  // "backup-name", default the job name
  std::string target_path;  // "target", may be empty
  // Option name (without "--") -> its values; a flag set to true has {"true"}.
  std::map<std::string, std::vector<std::string>> options;
};

// Reads `job` from the JSON text; `origin` names the file in errors.
Result<JobConfig> ParseJobConfig(const std::string& json_text, const std::string& job,
                                 const std::string& origin);
// Reads the file and parses it.
Result<JobConfig> LoadJobConfig(const std::string& path, const std::string& job);

}  // namespace zsend::orchestrator
