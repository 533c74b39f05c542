#!/usr/bin/env bash
# Integration test with a real Postfix (run by .ci/run as root): installs Debian's postfix
# when missing, configures it on loopback only with virtual mailboxes and the
# mail-journal content filter (examples/postfix_filter.rs), sends mail through it, and
# checks the mailboxes and the tracking log (tests/postfix/check.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "tests/postfix/run.sh needs root (it installs and configures Postfix)" >&2
  exit 1
fi

if ! command -v postfix >/dev/null 2>&1; then
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string mx.example.com" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
fi

cargo build --release --quiet --example postfix_filter
install -m 0755 target/release/examples/postfix_filter /usr/local/bin/mail-journal-postfix-filter

# Users: the virtual mailbox owner and the unprivileged filter user.
id vmail >/dev/null 2>&1 || useradd --system --uid 5000 --user-group --home /var/mail/vhosts --shell /usr/sbin/nologin vmail
id mjfilter >/dev/null 2>&1 || useradd --system --user-group --home /nonexistent --shell /usr/sbin/nologin mjfilter

# Fresh state for every run.
postfix stop >/dev/null 2>&1 || true
rm -rf /var/mail/vhosts/example.com /var/log/mail-journal /var/lib/mail-journal
install -d -o vmail -g vmail /var/mail/vhosts
install -d -o mjfilter -g mjfilter /var/log/mail-journal /var/lib/mail-journal/archive
install -m 0644 tests/postfix/policy.toml /etc/postfix/mail-journal.toml
for q in active deferred incoming hold corrupt; do find "/var/spool/postfix/$q" -type f -delete 2>/dev/null || true; done

cat > /etc/postfix/mail-journal-mailboxes <<'MAP'
alice@example.com example.com/alice/
carol@example.com example.com/carol/
dave@example.com example.com/dave/
journal1@example.com example.com/journal1/
journal2@example.com example.com/journal2/
inbound-ndr@example.com example.com/inbound-ndr/
outbound-ndr@example.com example.com/outbound-ndr/
MAP

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
  "default_transport = error:this test host does not deliver outside" \
  "virtual_mailbox_domains = example.com" \
  "virtual_mailbox_base = /var/mail/vhosts" \
  "virtual_mailbox_maps = texthash:/etc/postfix/mail-journal-mailboxes" \
  "virtual_uid_maps = static:5000" \
  "virtual_gid_maps = static:5000" \
  "smtpd_reject_unlisted_recipient = no" \
  "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination" \
  "mailbox_size_limit = 0" \
  "virtual_mailbox_limit = 0" \
  "smtputf8_enable = no" \
  "maillog_file = /var/log/postfix.log"

filter='flags=q user=mjfilter null_sender= argv=/usr/local/bin/mail-journal-postfix-filter --policy /etc/postfix/mail-journal.toml --log /var/log/mail-journal/tracking.csv --archive /var/lib/mail-journal/archive'
postconf -M# submission/inet >/dev/null 2>&1 || true
postconf -M "smtp/inet=smtp inet n - y - - smtpd -o content_filter=mailjournal-in:dummy"
postconf -M "submission/inet=submission inet n - y - - smtpd -o content_filter=mailjournal-out:dummy"
postconf -M "mailjournal-in/unix=mailjournal-in unix - n n - 4 pipe $filter --inbound IMS --from \${sender} -- \${recipient}"
postconf -M "mailjournal-out/unix=mailjournal-out unix - n n - 4 pipe $filter --from \${sender} -- \${recipient}"

postfix check
postfix start
trap 'postfix stop >/dev/null 2>&1 || true' EXIT
sleep 1

python3 tests/postfix/check.py
