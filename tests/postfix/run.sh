#!/usr/bin/env bash
# Integration test with a real Postfix (run by .ci/run as root): installs Debian's postfix
# when missing, configures it on loopback only with virtual mailboxes and
# mail-journal-proxy as its before-queue proxy (smtpd_proxy_filter, see setup.sh), and
# checks the SMTP dialogue, the deliveries, the store, a load run, three faults and
# the sealed store with mail-journal-verify, untouched and tampered
# (tests/postfix/check.py). Every process it starts is stopped by PID on exit.
# Env: LOAD_N (default 2000), FAULT_N (default 300).
set -euo pipefail
# One Postfix test at a time on a machine (CI and humans share the system Postfix): run
# under flock(1) on /tmp/mj-postfix.lock, unless this process already holds it (it was
# started as `flock /tmp/mj-postfix.lock bash tests/postfix/run.sh`, whose lock file
# descriptor it inherits).
PF_LOCK=/tmp/mj-postfix.lock
if [ -z "${MJ_POSTFIX_LOCKED:-}" ]; then
  held=""
  for fd in /proc/$$/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" = "$PF_LOCK" ] && held=1
  done
  if [ -z "$held" ]; then
    echo "--- waiting for $PF_LOCK (one Postfix test at a time)"
    exec env MJ_POSTFIX_LOCKED=1 flock "$PF_LOCK" bash "$0" "$@"
  fi
fi
cd "$(dirname "$0")/../.."
source tests/postfix/setup.sh
pf_require_root
T0=$(pf_now)

t=$(pf_now); pf_install; echo "--- install postfix (when missing): $(pf_since "$t")s"
t=$(pf_now); pf_build; echo "--- build mail-journal-proxy (release): $(pf_since "$t")s"
t=$(pf_now)
trap pf_cleanup EXIT
pf_configure
pf_start
echo "--- configure and start Postfix and the daemon: $(pf_since "$t")s"

# The null proxy of the shared benchmark, for the load comparison (skipped when the
# benchmark script is not beside the repository).
NULL=""
for bench in "${POSTFIX_PROXY_BENCH:-}" ../shared/bench/postfix-proxy-bench /work/shared/bench/postfix-proxy-bench; do
  if [ -n "$bench" ] && [ -r "$bench" ]; then
    NULL=$PF_STATE/nullproxy.py
    python3 -c "import sys; sys.path.insert(0, 'tests/postfix'); import load; load.extract_null_proxy(sys.argv[1], sys.argv[2])" "$bench" "$NULL"
    break
  fi
done

MJ_DAEMON_CMD=$(pf_daemon_cmd) MJ_NULL_PROXY=$NULL MJ_VERIFY=$PF_VERIFY MJ_PUBLIC_KEY=$PF_KEY.pub timeout 1500 python3 tests/postfix/check.py "$@"
echo "--- tests/postfix/run.sh: $(pf_since "$T0")s in all"
