#!/usr/bin/env bash
# One pure CPU loop at normal priority, to run the tests on a machine as busy as a shared one:
#   devtools/busy-loop.sh <pid>
# spins until <pid> is gone (checked a few times a second), so a loop never outlives the run
# that started it, even one killed with SIGKILL. Start one per core to load; stop with kill.
set -euo pipefail
owner="${1:?usage: busy-loop.sh <pid of the process whose run it loads>}"
[[ "${owner}" =~ ^[0-9]+$ ]] || { echo "busy-loop.sh: not a pid: ${owner}" >&2; exit 2; }
while kill -0 "${owner}" 2>/dev/null; do
  for ((i = 0; i < 100000; i++)); do :; done
done
