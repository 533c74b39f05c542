#!/usr/bin/env python3
"""Benchmark (tests/postfix/bench.sh): the same Postfix, four configurations, interleaved
runs of N messages x 2 recipients over 20 smtp-source sessions, Maildir delivery:

  null   port 25 -> the shared benchmark's do-nothing proxy (python byte pipe) -> 10026
  off    port 25 -> mail-journal-proxy, journaling and archival off          -> 10026
  on     port 25 -> mail-journal-proxy, one journal copy (2 recipients) + archive record
  bare   port 10030, no proxy at all

Each run checks its counts (delivered exactly once per recipient, journaled exactly once)
and the medians are printed with the daemon's CPU per message."""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402

N = int(os.environ.get("N", "20000"))
RUNS = int(os.environ.get("RUNS", "5"))
CONFIGS = os.environ.get("CONFIGS", "null off on bare").split()
DAEMON_CMD = [a for a in os.environ.get("MJ_DAEMON_CMD", "").split("\n") if a]
NULL_PROXY = os.environ["MJ_NULL_PROXY"]


def one(cfg):
    if cfg == "bare":
        return load.run(10030, N, False, timeout=1800), None
    if cfg == "null":
        load.stop_daemon_for()
        with load.NullProxy(NULL_PROXY) as null:
            c0 = null.cpu_ticks()
            res = load.run(25, N, False, timeout=1800)
            cpu = 1000.0 * (null.cpu_ticks() - c0) / load.HZ / N
        load.restart_daemon(DAEMON_CMD)
        return res, cpu
    load.set_policy(cfg == "on")
    res = load.run(25, N, cfg == "on", cpu_pid=load.daemon_pid(), timeout=1800)
    return res, res["daemon_cpu_ms_per_msg"]


def main():
    results = {c: [] for c in CONFIGS}
    bad = 0
    for i in range(RUNS):
        for cfg in CONFIGS:
            res, cpu = one(cfg)
            ok = load.ok_counts(res)
            bad += not ok
            line = load.describe(f"run {i + 1} {cfg}", res)
            if cpu is not None and cfg == "null":
                line += f"  null proxy CPU {cpu:.3f} ms/msg"
            print(line + ("" if ok else "  COUNTS WRONG"), flush=True)
            results[cfg].append((res["msg_per_s"], cpu))
    print(f"\nMEDIANS over {RUNS} interleaved runs, N={N} x 2 recipients, 20 sessions, 2 KB, Maildir delivery")
    med = {}
    for cfg, rows in results.items():
        rate = statistics.median(r for r, _ in rows)
        cpus = [c for _, c in rows if c is not None]
        cpu = statistics.median(cpus) if cpus else None
        med[cfg] = rate
        who = {"null": "null proxy", "off": "daemon", "on": "daemon"}.get(cfg, "")
        print(f"  {cfg:<5} {rate:8.1f} msg/s" + (f"   {who} CPU {cpu:.3f} ms/msg" if cpu is not None else ""))
    if "null" in med and "off" in med:
        print(f"  daemon (journaling off) / null proxy = {100 * med['off'] / med['null']:.0f} %")
    if "bare" in med:
        for cfg in ("null", "off", "on"):
            if cfg in med:
                print(f"  {cfg} / bare Postfix = {100 * med[cfg] / med['bare']:.0f} %")
    if "on" in med:
        print("  (on: each accepted original also makes Postfix queue and deliver one journal copy to 2 mailboxes)")
    if bad:
        sys.exit(f"FAIL: {bad} run(s) with wrong counts")


if __name__ == "__main__":
    main()
