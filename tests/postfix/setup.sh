# Shared by tests/postfix/run.sh and tests/postfix/bench.sh (sourced, not run): installs
# Debian's postfix when missing, builds mail-journal-proxy, configures the system Postfix
# on loopback only with virtual mailboxes and the proxy as smtpd_proxy_filter, and starts
# and stops everything by PID.
#
#   127.0.0.1:25    smtpd  -o smtpd_proxy_filter=127.0.0.1:10025   (mail from the Internet)
#   127.0.0.1:587   smtpd  -o smtpd_proxy_filter=127.0.0.1:10027   (submission)
#   127.0.0.1:10025 mail-journal-proxy, Origin::Inbound on connector IMS
#   127.0.0.1:10027 mail-journal-proxy, Origin::Submitted
#   127.0.0.1:10026 smtpd, re-injection: no filters, no address mappings, DSN offered
#   127.0.0.1:10029 smtp-sink: where mail to other domains goes (nothing leaves the host)
#   127.0.0.1:10030 smtpd without any filter (bare Postfix, for the load comparison)

PF_STATE=/var/lib/mail-journal-proxy-test
PF_STORE=$PF_STATE/store
PF_LOG=$PF_STATE/proxy.log
PF_PIDFILE=$PF_STATE/daemon.pid
PF_POLICY=$PF_STATE/policy.toml
PF_BIN=/usr/local/bin/mail-journal-proxy
PF_VERIFY=/usr/local/bin/mail-journal-verify
PF_KEY=$PF_STATE/seal.key
PF_MAIL=/var/mail/vhosts
SINK_DIR=$PF_STATE/sink
SINK_PID=
HELPER_PIDS=()

pf_now() { date +%s.%N; }
pf_since() { awk -v a="$1" -v b="$(pf_now)" 'BEGIN{printf "%.1f", b - a}'; }

pf_require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "$0 needs root (it installs and configures Postfix)" >&2
    exit 1
  fi
}

pf_install() {
  if ! command -v postfix >/dev/null 2>&1 || ! command -v smtp-source >/dev/null 2>&1; then
    echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
    echo "postfix postfix/mailname string mx.example.com" | debconf-set-selections
    timeout 300 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq postfix >/dev/null
  fi
  command -v setpriv >/dev/null || { echo "setpriv (util-linux) is missing" >&2; exit 1; }
}

pf_build() {
  timeout 1200 cargo build --release --quiet -p mail-journal-proxy -p mail-journal-verify
  install -m 0755 target/release/mail-journal-proxy "$PF_BIN"
  install -m 0755 target/release/mail-journal-verify "$PF_VERIFY"
}

# Kills a PID: TERM, up to 5 s, then KILL.
pf_kill() {
  local p=$1 i
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}

pf_wait_listen() {  # pf_wait_listen PORT [SECONDS]
  local port=$1 n=$(( ${2:-20} * 10 )) i
  for i in $(seq "$n"); do
    ss -Hltn "sport = :$port" | grep -q . && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$port" >&2
  return 1
}

pf_daemon_cmd() {
  printf '%s\n' setpriv --reuid=mjproxy --regid=mjproxy --init-groups "$PF_BIN" \
    --policy "$PF_POLICY" --listen-inbound 127.0.0.1:10025=IMS --listen-submitted 127.0.0.1:10027 \
    --reinject 127.0.0.1:10026 --store "$PF_STORE" --node mx1 --hostname mx.example.com \
    --max-message-size 10240000 --reinject-idle 2 --drain-timeout 60 \
    --checkpoint-every 500 --signing-key "$PF_KEY"
}

pf_start_daemon() {
  local cmd=()
  mapfile -t cmd < <(pf_daemon_cmd)
  "${cmd[@]}" >> "$PF_LOG" 2>&1 &
  echo $! > "$PF_PIDFILE"
  pf_wait_listen 10025 && pf_wait_listen 10027
}

pf_stop_daemon() {
  [ -r "$PF_PIDFILE" ] && pf_kill "$(cat "$PF_PIDFILE")"
  rm -f "$PF_PIDFILE"
}

pf_cleanup() {
  local rc=$? p
  trap - EXIT
  pf_stop_daemon
  for p in "${HELPER_PIDS[@]}"; do pf_kill "$p"; done
  pf_kill "$SINK_PID"
  timeout 60 postfix stop >/dev/null 2>&1 || true
  exit "$rc"
}

pf_configure() {
  id vmail >/dev/null 2>&1 || useradd --system --uid 5000 --user-group --home "$PF_MAIL" --shell /usr/sbin/nologin vmail
  id mjproxy >/dev/null 2>&1 || useradd --system --user-group --home /nonexistent --shell /usr/sbin/nologin mjproxy
  timeout 60 postfix stop >/dev/null 2>&1 || true
  rm -rf "$PF_MAIL/example.com" "$PF_MAIL/journal.internal" "$PF_STATE"
  install -d -o vmail -g vmail "$PF_MAIL"
  install -d -m 0755 "$PF_STATE"
  install -d -o mjproxy -g mjproxy "$PF_STORE"
  install -d -o nobody "$SINK_DIR"
  : > "$PF_LOG"; chown mjproxy "$PF_LOG"
  install -m 0644 tests/postfix/policy.toml "$PF_POLICY"
  # The chain's checkpoint signing key (the public half, seal.key.pub, is the auditor's).
  "$PF_BIN" --generate-key "$PF_KEY" >/dev/null
  chown mjproxy "$PF_KEY"
  for q in active deferred incoming hold corrupt maildrop bounce defer; do
    find "/var/spool/postfix/$q" -type f -delete 2>/dev/null || true
  done

  # Mailboxes. journal.internal is a delivery-only domain: only the re-injection
  # listener takes it (the front smtpd refuses it, below).
  {
    for u in alice carol dave ceo load 2load fault1 fault2; do echo "$u@example.com example.com/$u/"; done
    for u in journal1 journal2 inbound-ndr outbound-ndr; do echo "$u@journal.internal journal.internal/$u/"; done
  } > /etc/postfix/mail-journal-mailboxes

  postconf -X content_filter >/dev/null 2>&1 || true
  postconf -e \
    "compatibility_level = 3.6" \
    "myhostname = mx.example.com" \
    "mydomain = example.com" \
    "myorigin = example.com" \
    "mydestination = localhost" \
    "inet_interfaces = loopback-only" \
    "inet_protocols = ipv4" \
    "mynetworks = 127.0.0.0/8" \
    "relayhost =" \
    "default_transport = smtp:[127.0.0.1]:10029" \
    "smtp_dns_support_level = disabled" \
    "virtual_mailbox_domains = example.com, journal.internal" \
    "virtual_mailbox_base = $PF_MAIL" \
    "virtual_mailbox_maps = texthash:/etc/postfix/mail-journal-mailboxes" \
    "virtual_uid_maps = static:5000" \
    "virtual_gid_maps = static:5000" \
    "smtpd_reject_unlisted_recipient = no" \
    "smtpd_recipient_restrictions = check_recipient_access inline:{journal.internal=REJECT}, permit_mynetworks, reject_unauth_destination" \
    "mailbox_size_limit = 0" \
    "virtual_mailbox_limit = 0" \
    "smtputf8_enable = no" \
    "maillog_file = /var/log/postfix.log"

  # The pipe-filter services of earlier versions of this test, if present.
  postconf -MX mailjournal-in/unix >/dev/null 2>&1 || true
  postconf -MX mailjournal-out/unix >/dev/null 2>&1 || true
  postconf -M "smtp/inet=smtp inet n - y - - smtpd -o smtpd_proxy_filter=127.0.0.1:10025"
  postconf -M "submission/inet=submission inet n - y - - smtpd -o smtpd_proxy_filter=127.0.0.1:10027"
  pf_reinject_on
  postconf -M "127.0.0.1:10030/inet=127.0.0.1:10030 inet n - y - - smtpd"
  timeout 60 postfix check
}

# The re-injection listener (FILTER_README's after-filter smtpd): no proxy, no content
# filter, no address mappings (the engine already expanded lists), DSN offered (the
# default), XFORWARD accepted from loopback, a larger size limit than the front so a
# journal report of a message at the limit still fits.
pf_reinject_on() {
  postconf -M "127.0.0.1:10026/inet=127.0.0.1:10026 inet n - n - - smtpd -o smtpd_proxy_filter= -o content_filter= -o smtpd_authorized_xforward_hosts=127.0.0.0/8 -o smtpd_client_restrictions= -o smtpd_helo_restrictions= -o smtpd_sender_restrictions= -o smtpd_relay_restrictions=permit_mynetworks,reject -o smtpd_recipient_restrictions= -o smtpd_data_restrictions= -o smtpd_milters= -o mynetworks=127.0.0.0/8 -o message_size_limit=52428800 -o receive_override_options=no_unknown_recipient_checks,no_address_mappings,no_header_body_checks,no_milters"
}

pf_reinject_off() {
  postconf -MX 127.0.0.1:10026/inet
}

pf_start() {
  timeout "${PF_SINK_TIMEOUT:-1800}" smtp-sink -u nobody -d "$SINK_DIR/%M." 127.0.0.1:10029 256 > "$PF_STATE/sink.log" 2>&1 &
  SINK_PID=$!
  timeout 60 postfix start >/dev/null
  pf_wait_listen 25 && pf_wait_listen 587 && pf_wait_listen 10026 && pf_wait_listen 10030 && pf_wait_listen 10029
  pf_start_daemon
}
