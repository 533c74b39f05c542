#!/usr/bin/env python3
"""Sends mail through the Postfix configured by tests/postfix/run.sh and checks what the
mail-journal content filter made of it: originals delivered unaltered (list members
included), journal reports in both journal mailboxes under the right NDR sender, DSNs for
refused recipients reaching the sender, archive records, and the tracking log."""
import glob
import os
import smtplib
import sys
import time
from email import policy
from email.parser import BytesParser

BASE = "/var/mail/vhosts/example.com"
LOG = "/var/log/mail-journal/tracking.csv"
ARCHIVE = "/var/lib/mail-journal/archive"


def message(msg_id, frm, to, subject):
    return (
        f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{msg_id}>\r\n"
        "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"This is {msg_id}.\r\n--=_not_a_boundary\r\nLast line.\r\n"
    ).encode()


def send(port, frm, rcpts, data):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        refused = s.sendmail(frm, rcpts, data)
        assert not refused, refused


def mailbox(name):
    out = []
    for path in sorted(glob.glob(f"{BASE}/{name}/new/*")):
        with open(path, "rb") as f:
            out.append(f.read())
    return out


def wait_for(pred, what, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.5)
    os.system("tail -n 60 /var/log/mail.log 2>/dev/null || postqueue -p")
    sys.exit(f"FAIL: timed out waiting for {what}")


def lf(b):
    return b.replace(b"\r\n", b"\n")


def parse(raw):
    return BytesParser(policy=policy.default).parsebytes(raw)


def find(name, needle):
    return [m for m in mailbox(name) if needle in m]


def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")
    print(f"ok - {what}")


def main():
    start = time.time()
    # A: inbound from the Internet (port 25) to carol, the Sales list (carol, dave) and
    # an unknown local user.
    a = message("inbound-a@partner.example", "Bob <bob@partner.example>", "carol@example.com", "Inbound A")
    send(25, "bob@partner.example", ["carol@example.com", "sales@example.com", "nobody@example.com"], a)
    # B: submitted (port 587) by alice to dave, an unknown local user, and a partner — it
    # leaves through the connector, so outbound journaling applies. (This test host does
    # not deliver outside: Postfix bounces the partner's copy to alice.)
    b = message("submitted-b@example.com", "Alice <alice@example.com>", "dave@example.com", "Submitted B")
    send(587, "alice@example.com", ["dave@example.com", "nobody@example.com", "bob@partner.example"], b)
    # C: inbound, every recipient refused: the filter exits 77 and Postfix bounces.
    c = message("refused-c@example.com", "Alice <alice@example.com>", "nobody@example.com", "Refused C")
    send(25, "alice@example.com", ["nobody@example.com"], c)

    wait_for(lambda: find("carol", b"inbound-a@") and len(find("dave", b"This is")) >= 2, "deliveries")
    wait_for(lambda: len(find("journal1", b"X-MS-Journal-Report")) >= 2 and len(find("journal2", b"X-MS-Journal-Report")) >= 2, "journal reports")
    wait_for(
        lambda: [m for m in find("alice", b"rfc822; nobody@example.com") if b"submitted-b@example.com" in m]
        and find("alice", b"refused-c@"),
        "bounces to alice",
    )

    # Originals, unaltered, once per final destination (carol is direct and in Sales).
    carol = find("carol", b"inbound-a@")
    check(len(carol) == 1, "carol receives message A once although she is reached twice")
    check(lf(carol[0]).endswith(lf(a)), "carol's copy ends with the original message, byte for byte")
    dave = find("dave", b"This is")
    check(any(lf(m).endswith(lf(a)) for m in dave), "dave receives message A through the Sales list")
    check(any(lf(m).endswith(lf(b)) for m in dave), "dave receives message B")
    check(not os.path.exists(f"{BASE}/nobody"), "nothing is delivered to the refused recipient")

    # Journal reports: both members, under the NDR sender of each direction.
    for j in ("journal1", "journal2"):
        reports = [parse(m) for m in find(j, b"X-MS-Journal-Report")]
        by_id = {}
        for r in reports:
            inner = [p for p in r.iter_parts() if p.get_content_type() == "message/rfc822"]
            check(len(inner) == 1, f"{j}: a journal report attaches the original")
            by_id[inner[0].get_payload(0)["Message-ID"]] = r
        ra, rb = by_id.get("<inbound-a@partner.example>"), by_id.get("<submitted-b@example.com>")
        check(ra is not None and rb is not None, f"{j}: reports for A and B")
        check(ra["Return-Path"] == "<inbound-ndr@example.com>", f"{j}: A's report comes from the inbound NDR address")
        check(rb["Return-Path"] == "<outbound-ndr@example.com>", f"{j}: B's report comes from the outbound NDR address")
        summary = next(p for p in ra.iter_parts() if p.get_content_type() == "text/plain").get_content()
        for line in ("Sender: bob@partner.example", "To: carol@example.com", "dave@example.com, Expanded: sales@example.com"):
            check(line in summary, f"{j}: A's summary has {line!r}")
        raw = find(j, b"inbound-a@partner.example")[0]
        check(lf(a) in lf(raw), f"{j}: A is attached byte for byte")
        check(not find(j, b"refused-c@"), f"{j}: C, refused everywhere, is not journaled")

    # The refused recipient's bounce reaches the sender: the engine's DSN for B (alice also
    # holds Postfix's own bounces, for C and for B's partner copy: pick by content).
    ours = [m for m in find("alice", b"rfc822; nobody@example.com") if b"submitted-b@example.com" in m]
    check(len(ours) == 1, "alice receives exactly one engine DSN for B")
    dsn = parse(ours[0])
    check(dsn.get_content_type() == "multipart/report", "alice receives a DSN for B (multipart/report)")
    status = [p for p in dsn.iter_parts() if p.get_content_type() == "message/delivery-status"][0]
    fields = {k.lower(): str(v) for blk in status.get_payload() for k, v in blk.items()}
    check(fields.get("final-recipient") == "rfc822; nobody@example.com", "the DSN names nobody@example.com")
    check(fields.get("status") == "5.1.1", "the DSN says 5.1.1")
    check(dsn["Return-Path"] in ("<>", None), "the DSN has the null sender")
    check("submitted-b@example.com" in dsn.as_string(), "the DSN carries B's headers")
    bounce_c = find("alice", b"refused-c@")[0]
    check(b"user unknown" in bounce_c, "Postfix bounces C to alice with the filter's refusal")
    check(not find("inbound-ndr", b"This is") and not find("outbound-ndr", b"This is"), "nothing reaches the NDR mailboxes")

    # Archive records (Message Archival on the connector).
    records = glob.glob(f"{ARCHIVE}/*/*/*/*/*.eml")
    check(any("/bob@partner.example/" in r for r in records), "A is archived under its sender")
    check(any("/alice@example.com/" in r for r in records), "B is archived under its sender")
    rec = open([r for r in records if "/bob@partner.example/" in r][0], "rb").read()
    check(rec.startswith(b"X-Sender: <bob@partner.example>\r\n"), "the archive record starts with X-Sender")

    # The tracking log.
    log = open(LOG, encoding="utf-8").read()
    rows = [l.split(",") for l in log.splitlines() if l and not l.startswith("#")]
    events = {(r[8], r[10]) for r in rows}
    for ev in (("RECEIVE", "<inbound-a@partner.example>"), ("DELIVER", "<inbound-a@partner.example>"),
               ("EXPAND", "<inbound-a@partner.example>"), ("JOURNAL", "<inbound-a@partner.example>"),
               ("FAIL", "<inbound-a@partner.example>"), ("ARCHIVE", "<inbound-a@partner.example>"),
               ("SUBMIT", "<submitted-b@example.com>"), ("DELIVER", "<submitted-b@example.com>"),
               ("SEND", "<submitted-b@example.com>"), ("JOURNAL", "<submitted-b@example.com>"),
               ("DSN", "<submitted-b@example.com>"), ("FAIL", "<refused-c@example.com>")):
        check(ev in events, f"the tracking log has {ev[0]} for {ev[1]}")
    print(f"postfix integration: all checks passed in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
