#!/usr/bin/env python3
"""Checks the Postfix + mail-journal-proxy set-up of tests/postfix/run.sh:

* dialogue: an Internet client sees the engine's 550 at RCPT (unknown user, relay
  attempt, restricted sender); no bounce is ever generated for refused Internet mail;
* delivery: originals once per final destination, journal reports under the NDR
  Return-Path in the hidden journal mailboxes, the engine's DSN for submitted mail,
  archive records and tracking rows in the store;
* load: smtp-source, N messages x 2 recipients over 20 sessions: delivered exactly once
  per recipient and journaled exactly once; the same Postfix with the null proxy and
  bare, for the report (no wall-clock assert);
* faults: kill -9 of the daemon during a load (a retrying client: every message it saw
  accepted is delivered and journaled), SIGHUP with a broken policy (service stays up,
  the log names the field), the re-injection listener down (451, nothing lost);
* seal: after all of that (the kill -9 included), mail-journal-verify over the store
  finds nothing, with every checkpoint's signature checked, and counts as complete
  exactly the messages the clients saw accepted (a message sealed whose 250 the kill
  cut off, and that the client sent again, is a duplicate: counted and named); then, in
  a copy of the store, one archive file altered, another deleted and two chain lines
  swapped: the verifier names each of the three and nothing else.
Every wait is bounded."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import smtplib
import sys
import threading
import time
from email import policy
from email.parser import BytesParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402

EX = "/var/mail/vhosts/example.com"
JI = "/var/mail/vhosts/journal.internal"
STORE = f"{load.STATE}/store"
SINK = f"{load.STATE}/sink"
N_LOAD = int(os.environ.get("LOAD_N", "2000"))
N_FAULT = int(os.environ.get("FAULT_N", "300"))
DAEMON_CMD = [a for a in os.environ.get("MJ_DAEMON_CMD", "").split("\n") if a]
NULL_PROXY = os.environ.get("MJ_NULL_PROXY", "")
VERIFY = os.environ.get("MJ_VERIFY", "/usr/local/bin/mail-journal-verify")
PUBLIC_KEY = os.environ.get("MJ_PUBLIC_KEY", f"{load.STATE}/seal.key.pub")
# Messages the daemon answered 250 (as the clients saw it), over every phase; and the
# Message-IDs of the fault run's messages, which a kill can make the client send twice.
ACCEPTED = {"n": 0, "fault": set()}


def message(msg_id, frm, to, subject):
    return (
        f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{msg_id}>\r\n"
        "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"This is {msg_id}.\r\n.leading dot line\r\n--=_not_a_boundary\r\nLast line.\r\n"
    ).encode()


def mailbox(path):
    out = []
    for p in sorted(glob.glob(f"{path}/new/*")):
        with open(p, "rb") as f:
            out.append(f.read())
    return out


def find(path, needle):
    return [m for m in mailbox(path) if needle in m]


def wait_for(pred, what, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.25)
    os.system("tail -n 40 /var/log/postfix.log; tail -n 20 " + load.PROXY_LOG + "; postqueue -p | tail")
    sys.exit(f"FAIL: timed out waiting for {what}")


def lf(b):
    return b.replace(b"\r\n", b"\n")


def parse(raw):
    return BytesParser(policy=policy.default).parsebytes(raw)


def check(cond, what):
    if not cond:
        os.system("tail -n 30 " + load.PROXY_LOG)
        sys.exit(f"FAIL: {what}")
    print(f"ok - {what}")


def rcpt_reply(port, frm, rcpt):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("client.partner.example")
        code, _ = s.mail(frm)
        assert code == 250, code
        return s.rcpt(rcpt)


def all_mail():
    return [m for p in glob.glob("/var/mail/vhosts/*/*/new/*") for m in [open(p, "rb").read()]]


def phase(name):
    t = time.time()
    print(f"--- {name}")
    return lambda: print(f"--- {name}: {time.time() - t:.1f}s")


def dialogue_and_delivery():
    done = phase("dialogue and delivery")
    # The engine's verdicts, in the dialogue, for an Internet client.
    code, text = rcpt_reply(25, "bob@partner.example", "nobody@example.com")
    check(code == 550 and b"5.1.1" in text and b"user unknown" in text, f"unknown user refused at RCPT: {code} {text!r}")
    code, text = rcpt_reply(25, "bob@partner.example", "someone@elsewhere.example")
    check(code == 550 and b"5.7.1 Relaying denied" in text, f"relay attempt refused at RCPT: {code} {text!r}")
    code, text = rcpt_reply(25, "bob@partner.example", "ceo@example.com")
    check(code == 550 and b"5.7.1" in text and b"not authorized" in text, f"restricted sender refused at RCPT: {code} {text!r}")
    for port in (25, 587):
        code, text = rcpt_reply(port, "alice@example.com", "journal1@journal.internal")
        check(code // 100 == 5, f"the delivery-only domain is refused on port {port}: {code} {text!r}")

    # A: inbound to carol, the Sales list (carol, dave) and an unknown user.
    a = message("inbound-a@partner.example", "Bob <bob@partner.example>", "carol@example.com", "Inbound A")
    with smtplib.SMTP("127.0.0.1", 25, timeout=60) as s:
        refused = s.sendmail("bob@partner.example", ["carol@example.com", "sales@example.com", "nobody@example.com"], a)
    check(list(refused) == ["nobody@example.com"] and refused["nobody@example.com"][0] == 550,
          f"A: only nobody@ refused, in the dialogue ({refused})")
    ACCEPTED["n"] += 1
    # B: submitted by alice to dave, an unknown user and a partner (leaves through IMS).
    b = message("submitted-b@example.com", "Alice <alice@example.com>", "dave@example.com", "Submitted B")
    with smtplib.SMTP("127.0.0.1", 587, timeout=60) as s:
        refused = s.sendmail("alice@example.com", ["dave@example.com", "nobody@example.com", "bob@partner.example"], b)
    check(not refused, "B: submitted recipients accepted (refusals go into the DSN)")
    ACCEPTED["n"] += 1
    # C: inbound, every recipient refused: the client gets the refusals, nobody a bounce.
    c = message("refused-c@example.com", "Mallory <forged@victim.example>", "nobody@example.com", "Refused C")
    try:
        with smtplib.SMTP("127.0.0.1", 25, timeout=60) as s:
            s.sendmail("forged@victim.example", ["nobody@example.com", "x@elsewhere.example"], c)
        check(False, "C: every recipient refused")
    except smtplib.SMTPRecipientsRefused as e:
        check(set(e.recipients) == {"nobody@example.com", "x@elsewhere.example"}, "C: every recipient refused in the dialogue")

    wait_for(lambda: find(f"{EX}/carol", b"inbound-a@") and len(find(f"{EX}/dave", b"This is")) >= 2, "deliveries")
    wait_for(lambda: len(find(f"{JI}/journal1", b"X-MS-Journal-Report")) >= 2
             and len(find(f"{JI}/journal2", b"X-MS-Journal-Report")) >= 2, "journal reports")
    wait_for(lambda: find(f"{EX}/alice", b"rfc822; nobody@example.com"), "the engine's DSN for B")
    wait_for(lambda: glob.glob(f"{SINK}/*") and load.queue_empty(), "B's partner copy at the sink and an empty queue")

    carol = find(f"{EX}/carol", b"inbound-a@")
    check(len(carol) == 1, "carol receives A once although she is reached twice")
    check(lf(carol[0]).endswith(lf(a)), "carol's copy ends with the original, byte for byte")
    dave = find(f"{EX}/dave", b"This is")
    check(len(dave) == 2, "dave receives A (through Sales) and B, once each")
    check(any(lf(m).endswith(lf(a)) for m in dave) and any(lf(m).endswith(lf(b)) for m in dave), "dave's copies are unaltered")
    check(not os.path.exists(f"{EX}/nobody"), "nothing for the refused recipient")
    sink = [open(p, "rb").read() for p in glob.glob(f"{SINK}/*")]
    check(len([m for m in sink if b"submitted-b@example.com" in m]) == 1, "B's external copy left once (to the sink)")

    for j in ("journal1", "journal2"):
        by_id = {}
        for r in (parse(m) for m in find(f"{JI}/{j}", b"X-MS-Journal-Report")):
            inner = [p for p in r.iter_parts() if p.get_content_type() == "message/rfc822"]
            check(len(inner) == 1, f"{j}: a journal report attaches the original")
            by_id[inner[0].get_payload(0)["Message-ID"]] = r
        ra, rb = by_id.get("<inbound-a@partner.example>"), by_id.get("<submitted-b@example.com>")
        check(ra is not None and rb is not None and len(by_id) == 2, f"{j}: one report each for A and B, none for C")
        check(ra["Return-Path"] == "<inbound-ndr@journal.internal>", f"{j}: A's report comes from the inbound NDR address")
        check(rb["Return-Path"] == "<outbound-ndr@journal.internal>", f"{j}: B's report comes from the outbound NDR address")
        summary = next(p for p in ra.iter_parts() if p.get_content_type() == "text/plain").get_content()
        for line in ("Sender: bob@partner.example", "carol@example.com", "dave@example.com, Expanded: sales@example.com"):
            check(line in summary, f"{j}: A's summary has {line!r}")
        check(lf(a) in lf(find(f"{JI}/{j}", b"inbound-a@partner.example")[0]), f"{j}: A is attached byte for byte")

    ours = [m for m in find(f"{EX}/alice", b"rfc822; nobody@example.com") if b"submitted-b@example.com" in m]
    check(len(ours) == 1, "alice receives exactly one DSN for B")
    dsn = parse(ours[0])
    check(dsn.get_content_type() == "multipart/report", "the DSN is a multipart/report")
    status = [p for p in dsn.iter_parts() if p.get_content_type() == "message/delivery-status"][0]
    fields = {k.lower(): str(v) for blk in status.get_payload() for k, v in blk.items()}
    check(fields.get("status") == "5.1.1", "the DSN says 5.1.1")
    check(dsn["Return-Path"] in ("<>", None), "the DSN has the null sender")
    # No bounce anywhere: the only report in any mailbox is the engine's DSN for B.
    reports = [m for m in all_mail() if b"multipart/report" in m]
    check(len(reports) == 1 and b"submitted-b@example.com" in reports[0], "no bounce in any mailbox (only B's DSN)")
    check(not any(b"refused-c@" in m for m in all_mail()), "C reached nobody: no bounce to the forged sender")
    check(not mailbox(f"{JI}/inbound-ndr") and not mailbox(f"{JI}/outbound-ndr"), "nothing reaches the NDR mailboxes")
    check(load.queue_empty(), "Postfix's queue is empty (postqueue -p)")

    records = glob.glob(f"{STORE}/archive/*/*/*/*/*.eml")
    check(any("/bob@partner.example/" in r for r in records), "A is archived under its sender")
    check(any("/alice@example.com/" in r for r in records), "B is archived under its sender")
    rec = open([r for r in records if "/bob@partner.example/" in r][0], "rb").read()
    check(rec.startswith(b"X-Sender: <bob@partner.example>\r\n") and lf(a) in lf(rec), "the archive record holds the envelope and A")
    logs = glob.glob(f"{STORE}/tracking/MSGTRK????????-mx1.LOG")
    check(len(logs) == 1, f"one daily tracking log ({logs})")
    text = open(logs[0], encoding="utf-8").read()
    check(text.startswith("#Software: mail-journal") and "#Fields: date-time," in text, "the log starts with its preamble")
    rows = [l.split(",") for l in text.splitlines() if l and not l.startswith("#")]
    # A journal copy's rows carry the report's own Message-ID and the original's as the
    # reference (field 17) that links them.
    events = {(r[8], r[10]) for r in rows} | {(r[8], r[17]) for r in rows if r[17]}
    for ev in (("RECEIVE", "<inbound-a@partner.example>"), ("DELIVER", "<inbound-a@partner.example>"),
               ("EXPAND", "<inbound-a@partner.example>"), ("JOURNAL", "<inbound-a@partner.example>"),
               ("ARCHIVE", "<inbound-a@partner.example>"), ("SUBMIT", "<submitted-b@example.com>"),
               ("SEND", "<submitted-b@example.com>"), ("JOURNAL", "<submitted-b@example.com>"),
               ("DSN", "<submitted-b@example.com>"), ("FAIL", "<submitted-b@example.com>")):
        check(ev in events, f"the tracking log has {ev[0]} for {ev[1]}")
    check(not any(r[10] == "<refused-c@example.com>" for r in rows), "C, refused in the dialogue, was never received")
    done()


def load_runs():
    done = phase(f"load: smtp-source {N_LOAD} messages x 2 recipients, 20 sessions")
    pid = load.daemon_pid()
    res = load.run(25, N_LOAD, True, cpu_pid=pid)
    print(load.describe("proxy, journaling on", res))
    check(load.ok_counts(res), "load: every message delivered once per recipient and journaled once")
    ACCEPTED["n"] += N_LOAD
    load.set_policy(False)
    res_off = load.run(25, N_LOAD, False, cpu_pid=pid)
    print(load.describe("proxy, journaling off", res_off))
    check(load.ok_counts(res_off), "load (journaling off): every message delivered once per recipient")
    ACCEPTED["n"] += N_LOAD
    load.set_policy(True)
    res_bare = load.run(10030, N_LOAD, False)
    print(load.describe("bare Postfix (no proxy)", res_bare))
    if NULL_PROXY:
        load.stop_daemon_for()
        with load.NullProxy(NULL_PROXY) as null:
            c0 = null.cpu_ticks()
            res_null = load.run(25, N_LOAD, False)
            cpu = 1000.0 * (null.cpu_ticks() - c0) / load.HZ / N_LOAD
        load.restart_daemon(DAEMON_CMD)
        print(load.describe("null proxy (python pipe)", res_null) + f"  null proxy CPU {cpu:.3f} ms/msg")
        print(f"report: proxy (journaling off) = {100 * res_off['msg_per_s'] / res_null['msg_per_s']:.0f} % of the null proxy, "
              f"{100 * res_off['msg_per_s'] / res_bare['msg_per_s']:.0f} % of bare Postfix (one short run each; see bench.sh)")
    done()


def send_retrying(i, stats, lock, stop_at):
    """Sends fault message i until a 250 (4xx and lost connections are retried)."""
    msg = message(f"fault-{i}@partner.example", "Bob <bob@partner.example>", "fault1@example.com", f"Fault {i}")
    for _attempt in range(60):
        if time.time() > stop_at:
            break
        try:
            with smtplib.SMTP("127.0.0.1", 25, timeout=30) as s:
                s.sendmail("bob@partner.example", ["fault1@example.com", "fault2@example.com"], msg)
            with lock:
                stats["accepted"].add(i)
            return
        except (smtplib.SMTPException, OSError) as e:
            code = getattr(e, "smtp_code", None)
            if code is None and isinstance(e, smtplib.SMTPRecipientsRefused):
                code = min(c for c, _ in e.recipients.values())
            with lock:
                stats["retries"] += 1
                stats["codes"][str(code)] = stats["codes"].get(str(code), 0) + 1
            if code is not None and code // 100 == 5:
                with lock:
                    stats["refused"].add(i)
                return
            time.sleep(0.3)


def faults():
    done = phase(f"faults: kill -9 during a load of {N_FAULT} messages with a retrying client")
    f1, f2 = f"{EX}/fault1", f"{EX}/fault2"
    j1, j2 = f"{JI}/journal1", f"{JI}/journal2"
    load.clear(f"{f1}/new", f"{f2}/new", f"{j1}/new", f"{j2}/new")
    stats = {"accepted": set(), "refused": set(), "retries": 0, "codes": {}}
    lock = threading.Lock()
    stop_at = time.time() + 240
    todo = list(range(N_FAULT))
    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            send_retrying(i, stats, lock, stop_at)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    while len(stats["accepted"]) < N_FAULT // 3 and time.time() < deadline:
        time.sleep(0.02)
    killed = load.daemon_pid()
    os.kill(killed, signal.SIGKILL)
    print(f"killed the daemon (PID {killed}, kill -9) after {len(stats['accepted'])} accepted messages")
    time.sleep(1.0)
    load.restart_daemon(DAEMON_CMD)
    for t in threads:
        t.join(300)
    accepted = stats["accepted"]
    check(len(accepted) == N_FAULT and not stats["refused"], f"every fault message was accepted in the end ({len(accepted)}/{N_FAULT})")
    ACCEPTED["n"] += len(accepted)
    ACCEPTED["fault"] |= {f"<fault-{i}@partner.example>" for i in accepted}
    wait_for(lambda: len(load.ids_in(f"{f1}/new")) >= len(accepted) and len(load.ids_in(f"{f2}/new")) >= len(accepted)
             and len(load.ids_in(f"{j1}/new")) >= len(accepted) and load.queue_empty(), "the fault messages' deliveries", 180)
    want = {f"<fault-{i}@partner.example>".encode() for i in accepted}
    counts = {}
    for name, d in (("fault1", f1), ("fault2", f2), ("journal1", j1), ("journal2", j2)):
        ids = load.ids_in(f"{d}/new")
        lost = want - set(ids)
        dups = sum(c - 1 for k, c in ids.items() if k in want)
        counts[name] = (len(want & set(ids)), dups)
        check(not lost, f"{name}: every accepted message is there ({len(want) - len(lost)}/{len(want)}, {dups} duplicates)")
    print(f"fault counts: accepted={len(accepted)} retried_attempts={stats['retries']} replies={stats['codes']} "
          + " ".join(f"{k}={v[0]}(+{v[1]} dup)" for k, v in counts.items()))
    done()

    done = phase("faults: SIGHUP with a broken policy")
    good = open(load.POLICY).read()
    start = len(load.log_lines())
    with open(load.POLICY, "w") as f:
        f.write(good.replace("cost = 1", "cost = 0"))
    os.kill(load.daemon_pid(), signal.SIGHUP)
    load.wait_log(lambda l: "policy reload failed" in l, "the failed reload", start=start)
    line = [l for l in load.log_lines()[start:] if "policy reload failed" in l][0]
    check("connectors[0]" in line and "address_spaces[0].cost" in line, f"the log names the field: {line.strip()[:200]}")
    m = message("after-bad-hup@partner.example", "bob@partner.example", "carol@example.com", "After HUP")
    with smtplib.SMTP("127.0.0.1", 25, timeout=60) as s:
        check(not s.sendmail("bob@partner.example", ["carol@example.com"], m), "mail is still accepted under the old policy")
    ACCEPTED["n"] += 1
    wait_for(lambda: find(f"{EX}/carol", b"after-bad-hup@"), "delivery after the failed reload")
    with open(load.POLICY, "w") as f:
        f.write(good)
    start = len(load.log_lines())
    os.kill(load.daemon_pid(), signal.SIGHUP)
    load.wait_log(lambda l: "policy reloaded" in l, "the good reload", start=start)
    done()

    done = phase("faults: the re-injection listener is down")
    os.system("postconf -MX 127.0.0.1:10026/inet && postfix reload >/dev/null 2>&1")
    time.sleep(3)  # the daemon keeps idle re-injection connections for 2 s
    m = message("reinject-down@partner.example", "bob@partner.example", "carol@example.com", "Re-injection down")
    code = None
    try:
        with smtplib.SMTP("127.0.0.1", 25, timeout=60) as s:
            s.sendmail("bob@partner.example", ["carol@example.com"], m)
    except smtplib.SMTPDataError as e:
        code = e.smtp_code
    check(code == 451, f"the client is told 451 at the end of DATA (got {code})")
    os.system("bash -c 'source tests/postfix/setup.sh && pf_reinject_on' && postfix reload >/dev/null 2>&1")
    deadline = time.time() + 30
    while os.system("ss -Hltn 'sport = :10026' | grep -q .") != 0 and time.time() < deadline:
        time.sleep(0.2)
    with smtplib.SMTP("127.0.0.1", 25, timeout=60) as s:
        check(not s.sendmail("bob@partner.example", ["carol@example.com"], m), "the retry is accepted")
    ACCEPTED["n"] += 1
    wait_for(lambda: find(f"{EX}/carol", b"reinject-down@") and load.queue_empty(), "the retried message's delivery")
    check(len(find(f"{EX}/carol", b"reinject-down@")) == 1, "delivered once: nothing lost, nothing doubled")
    check(not any(b"reinject-down@" in m and b"multipart/report" in m for m in all_mail()), "no bounce for it")
    done()


def verify(store, *extra):
    """mail-journal-verify --json over a store: (exit status, report)."""
    p = subprocess.run([VERIFY, store, "--json", *extra], capture_output=True, text=True, timeout=600)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        sys.exit(f"FAIL: mail-journal-verify printed no report (exit {p.returncode}): {p.stderr.strip()[:500]}")


def chain_lines(store):
    return [json.loads(l) for l in open(f"{store}/seal/mx1.chain", encoding="utf-8")]


def sealed_message_ids(store, entries):
    """Message-ID of the original in each sealed message's first archive record, by the
    seq of its decision entry."""
    out = {}
    for e in entries:
        if e["kind"] == "decision" and e["archive"]:
            with open(os.path.join(store, e["archive"][0]), "rb") as f:
                m = re.search(rb"^Message-ID: (<[^>\r\n]+>)", f.read(), re.I | re.M)
            if m:
                out[e["seq"]] = m.group(1).decode()
    return out


def seal():
    done = phase("seal: mail-journal-verify over the store")
    # A clean stop ends the chain on a checkpoint; the verifier may then require it.
    stopped_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load.stop_daemon_for(60)
    t = time.time()
    rc, report = verify(STORE, "--public-key", PUBLIC_KEY, "--closed-until", stopped_at)
    took = time.time() - t
    summary = report["summary"]
    for f in report["findings"][:20]:
        print(f"  finding: {f['kind']} seq={f['seq']} line={f['line']} key={f['key']}: {f['message']}")
    check(rc == 0 and report["clean"] and not report["findings"],
          f"the sealed store verifies: 0 findings, signatures checked ({len(report['findings'])} findings, exit {rc}, {took:.1f}s)")
    check(summary["signatures_checked"] and summary["checkpoints"] >= 3, f"signed checkpoints checked ({summary['checkpoints']})")
    entries = chain_lines(STORE)
    resumes = [e for e in entries if e["kind"] == "checkpoint" and e["reason"] == "resume"]
    check(len(resumes) >= 1, f"the chain continues across the restarts ({len(resumes)} resume checkpoints)")
    # Duplicates: a fault message sealed more than once (its 250 was cut off by the kill
    # and the client sent it again). Every accepted fault message is sealed.
    ids = sealed_message_ids(STORE, entries)
    per_id = {}
    for mid in ids.values():
        if mid in ACCEPTED["fault"]:
            per_id[mid] = per_id.get(mid, 0) + 1
    dups = sum(c - 1 for c in per_id.values())
    missing = ACCEPTED["fault"] - set(per_id)
    check(not missing, f"every accepted fault message is sealed ({len(ACCEPTED['fault']) - len(missing)}/{len(ACCEPTED['fault'])})")
    quarantine = glob.glob(f"{STORE}/quarantine/mx1/*")
    print(f"seal counts: accepted_250={ACCEPTED['n']} messages={summary['messages']} complete={summary['complete']} "
          f"duplicates={dups} findings={len(report['findings'])} entries={summary['entries']} "
          f"records={summary['records']} journal_copies={summary['journal_copies']} checkpoints={summary['checkpoints']} "
          f"quarantined_files={len(quarantine)}")
    check(summary["complete"] == summary["messages"], "every sealed message is complete")
    check(dups <= 8, f"duplicates only from the messages in flight at the kill (8 clients): {dups}")
    check(summary["complete"] - dups == ACCEPTED["n"],
          f"complete messages ({summary['complete']}, {dups} of them duplicates) = messages the clients saw accepted ({ACCEPTED['n']})")
    done()

    done = phase("seal: tampering is named (a copy of the store)")
    copy = f"{load.STATE}/store-tampered"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(STORE, copy, symlinks=True)
    records = sorted(e["key"] for e in entries if e["kind"] == "archive")
    altered, deleted = records[len(records) // 3], records[2 * len(records) // 3]
    with open(f"{copy}/{altered}", "r+b") as f:
        data = bytearray(f.read())
        i = data.rindex(b"This is") if b"This is" in data else len(data) // 2
        data[i] ^= 0x20
        f.seek(0)
        f.write(data)
    os.unlink(f"{copy}/{deleted}")
    with open(f"{copy}/seal/mx1.chain", "rb") as f:
        lines = f.read().split(b"\n")
    a, b = len(lines) // 4, len(lines) // 2  # 0-based; both complete lines
    lines[a], lines[b] = lines[b], lines[a]
    with open(f"{copy}/seal/mx1.chain", "wb") as f:
        f.write(b"\n".join(lines))
    rc, report = verify(copy, "--public-key", PUBLIC_KEY)
    findings = report["findings"]
    for f in findings:
        print(f"  finding: node={f['node']} seq={f['seq']} line={f['line']} key={f['key']}: {f['message']}")
    kinds = sorted(f["kind"] for f in findings)
    check(rc == 1 and kinds == ["altered_record", "missing_record", "out_of_order"],
          f"exactly three findings: altered, missing, out of order (got {kinds}, exit {rc})")
    by = {f["kind"]: f for f in findings}
    check(by["altered_record"]["key"] == altered, f"the altered record is named: {altered}")
    check(by["missing_record"]["key"] == deleted, f"the deleted record is named: {deleted}")
    swapped = by["out_of_order"]["message"]
    check(f"line {a + 1} holds seq {b + 1}" in swapped and f"line {b + 1} holds seq {a + 1}" in swapped,
          f"the swapped chain lines are named: lines {a + 1} and {b + 1}")
    shutil.rmtree(copy, ignore_errors=True)
    done()


def main():
    start = time.time()
    parts = sys.argv[1:] or ["dialogue", "load", "faults", "seal"]
    if "dialogue" in parts:
        dialogue_and_delivery()
    if "load" in parts:
        load_runs()
    if "faults" in parts:
        faults()
    if "seal" in parts:
        seal()
    check(load.queue_empty(), "Postfix's queue is empty at the end")
    print(f"postfix integration: all checks passed in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
