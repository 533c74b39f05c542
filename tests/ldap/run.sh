#!/usr/bin/env bash
# Integration test with a real directory server (run as root): installs Debian's slapd
# and ldap-utils when missing, starts a private slapd (its own configuration, schema and
# data under a temporary directory, listening only on 127.0.0.1 on a free port, mdb
# backend, suffix dc=example,dc=com) with the Active Directory attributes of
# tests/ldap/ad.schema, loads tests/ldap/org.ldif, exports it with `ldapsearch -LLL` and
# runs tests/ldif.rs on the export (MJ_LDIF_EXPORT). slapd is stopped by its PID on exit,
# whether the test passed or not. A second run starts from scratch again.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "tests/ldap/run.sh needs root (it installs slapd and ldap-utils)" >&2
  exit 1
fi

if ! command -v slapd >/dev/null 2>&1 || ! command -v ldapsearch >/dev/null 2>&1 || ! command -v ldapadd >/dev/null 2>&1; then
  # No default database or service: this test configures its own slapd.
  echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
  timeout 300 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends slapd ldap-utils >/dev/null
fi
SLAPD=$(command -v slapd || echo /usr/sbin/slapd)

WORK=$(mktemp -d /tmp/mail-journal-ldap.XXXXXX)
SLAPD_PID=
cleanup() {
  status=$?
  if [ -n "$SLAPD_PID" ] && kill -0 "$SLAPD_PID" 2>/dev/null; then
    kill "$SLAPD_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SLAPD_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SLAPD_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$WORK/slapd.log" ]; then
    echo "--- slapd log"
    tail -n 40 "$WORK/slapd.log"
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

# A free port on the loopback interface.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URI="ldap://127.0.0.1:$PORT/"
SUFFIX="dc=example,dc=com"
ROOTDN="cn=admin,$SUFFIX"
ROOTPW="mail-journal-test-$(date +%s%N)"

mkdir -p "$WORK/data"
cp /etc/ldap/schema/core.schema /etc/ldap/schema/cosine.schema \
  /etc/ldap/schema/inetorgperson.schema "$ROOT/tests/ldap/ad.schema" "$WORK/"
cat >"$WORK/slapd.conf" <<CONF
include $WORK/core.schema
include $WORK/cosine.schema
include $WORK/inetorgperson.schema
include $WORK/ad.schema
pidfile $WORK/slapd.pid
argsfile $WORK/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 104857600
suffix "$SUFFIX"
rootdn "$ROOTDN"
rootpw $(slappasswd -n -s "$ROOTPW")
directory $WORK/data
CONF
# The configuration (schema included) must load before the server starts.
"$SLAPD" -Tt -u -f "$WORK/slapd.conf" >"$WORK/slaptest.log" 2>&1 || { cat "$WORK/slaptest.log"; exit 1; }

RUN_AS=()
if id openldap >/dev/null 2>&1; then
  chown -R openldap:openldap "$WORK"
  RUN_AS=(-u openldap -g openldap)
fi
# -d keeps slapd in the foreground, so $! is its PID.
"$SLAPD" -f "$WORK/slapd.conf" -h "$URI" "${RUN_AS[@]}" -d 0 >"$WORK/slapd.log" 2>&1 &
SLAPD_PID=$!

ready=
for _ in $(seq 1 100); do
  if ! kill -0 "$SLAPD_PID" 2>/dev/null; then
    echo "slapd exited at start" >&2
    exit 1
  fi
  if timeout 5 ldapsearch -x -LLL -H "$URI" -b "" -s base namingContexts >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "slapd did not answer on $URI within 10 s" >&2; exit 1; }
echo "slapd $SLAPD_PID on $URI"

timeout 60 ldapadd -x -H "$URI" -D "$ROOTDN" -w "$ROOTPW" -f "$ROOT/tests/ldap/org.ldif" >"$WORK/ldapadd.log"
echo "loaded $(grep -c '^adding new entry' "$WORK/ldapadd.log") entries from tests/ldap/org.ldif"

EXPORT="$WORK/export.ldif"
timeout 60 ldapsearch -LLL -x -H "$URI" -D "$ROOTDN" -w "$ROOTPW" -b "$SUFFIX" >"$EXPORT"
echo "exported $(grep -c '^dn:' "$EXPORT") entries with ldapsearch -LLL"
# For a look at what the server wrote: MJ_LDAP_KEEP_EXPORT=/path/export.ldif.
if [ -n "${MJ_LDAP_KEEP_EXPORT:-}" ]; then cp "$EXPORT" "$MJ_LDAP_KEEP_EXPORT"; fi

MJ_LDIF_EXPORT="$EXPORT" timeout 1200 cargo test --test ldif -- --nocapture
