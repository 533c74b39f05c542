#!/usr/bin/env bash
# Benchmark of mail-journal-proxy against the same Postfix with the shared benchmark's
# null proxy and with no proxy at all (tests/postfix/bench.py), interleaved, with counts
# checked on every run. Not run by CI. Needs root; stops everything it starts by PID.
# Env: N=20000 RUNS=5 CONFIGS="null off on bare" POSTFIX_PROXY_BENCH=path/to/postfix-proxy-bench
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/postfix/setup.sh
pf_require_root
T0=$(pf_now)
BENCH=""
for b in "${POSTFIX_PROXY_BENCH:-}" ../shared/bench/postfix-proxy-bench /work/shared/bench/postfix-proxy-bench; do
  if [ -n "$b" ] && [ -r "$b" ]; then BENCH=$b; break; fi
done
[ -n "$BENCH" ] || { echo "postfix-proxy-bench not found; set POSTFIX_PROXY_BENCH" >&2; exit 1; }
pf_install
pf_build
trap pf_cleanup EXIT
PF_SINK_TIMEOUT=36000
pf_configure
pf_start
python3 -c "import sys; sys.path.insert(0, 'tests/postfix'); import load; load.extract_null_proxy(sys.argv[1], sys.argv[2])" "$BENCH" "$PF_STATE/nullproxy.py"
echo "postfix $(postconf -h mail_version), $(nproc) cores, $(uname -r); null proxy from $BENCH"
MJ_DAEMON_CMD=$(pf_daemon_cmd) MJ_NULL_PROXY=$PF_STATE/nullproxy.py timeout 36000 python3 tests/postfix/bench.py
echo "bench.sh: $(pf_since "$T0")s"
