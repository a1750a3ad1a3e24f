#!/usr/bin/env bash
# The dependency rules of docs/architecture.md, checked on the source tree (ctest: Layout.Dependencies):
#   base/                      includes nothing of ours but base/
#   engine/                    base/ and engine/ only (no sockets' owners, no CLI, no orchestrator)
#   transports/                base/, engine/, transports/
#   orchestrator/, tools/zsend base/, orchestrator/, tools/zsend/ (zsend-engine is a process to them)
# Prints each offending include and exits 1 when there is one.
set -uo pipefail
cd "${1:-$(dirname "$0")/..}"
bad=0
check() {  # DIR ALLOWED-REGEX
  local hits
  hits=$(grep -rnE '^#include "' "$1" --include='*.h' --include='*.cpp' | grep -vE "#include \"($2)/" || true)
  if [ -n "$hits" ]; then
    echo "layout: $1 may include only $2:"
    echo "$hits"
    bad=1
  fi
}
check base 'base'
check engine 'base|engine'
check transports 'base|engine|transports'
check orchestrator 'base|orchestrator'
check tools/zsend 'base|orchestrator|tools/zsend'
[ "$bad" -eq 0 ] && echo "layout: every include follows the dependency rules"
exit "$bad"
