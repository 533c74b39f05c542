"""Load runs on the Postfix configured by tests/postfix/setup.sh, shared by check.py (CI:
one short run of each configuration) and bench.sh (interleaved runs, medians).

A run sends N messages x 2 recipients with Postfix's own smtp-source over 20 parallel
sessions to load@example.com and 2load@example.com, waits (bounded) until Postfix has
delivered everything, and counts the Maildirs: every message must be in each mailbox
exactly once and, when journaling is on, in each journal mailbox exactly once. Duplicates
and losses are told apart by Message-Id. Time is measured from the client's start to the
last delivered file's mtime; the daemon's CPU comes from /proc/PID/stat."""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

MAIL = "/var/mail/vhosts"
STATE = "/var/lib/mail-journal-proxy-test"
POLICY = f"{STATE}/policy.toml"
PROXY_LOG = f"{STATE}/proxy.log"
PIDFILE = f"{STATE}/daemon.pid"
HZ = os.sysconf("SC_CLK_TCK")
MSGID = re.compile(rb"^Message-Id: (<[^>\r\n]+>)", re.I | re.M)


def maildir(user, domain="example.com"):
    return f"{MAIL}/{domain}/{user}/new"


def files(d):
    try:
        return [os.path.join(d, f) for f in os.listdir(d)]
    except FileNotFoundError:
        return []


def clear(*dirs):
    for d in dirs:
        for f in files(d):
            os.unlink(f)


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])
    except (OSError, IndexError, ValueError):
        return 0


def daemon_pid():
    try:
        return int(open(PIDFILE).read().strip())
    except (OSError, ValueError):
        return 0


def log_lines():
    try:
        return open(PROXY_LOG, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        return []


def wait_log(pred, what, seconds=30, start=0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if any(pred(l) for l in log_lines()[start:]):
            return
        time.sleep(0.1)
    sys.exit(f"FAIL: timed out waiting for the proxy log to show {what}")


def policy_text(journaling):
    text = open(os.path.join(os.path.dirname(__file__), "policy.toml")).read()
    if journaling:
        return text
    keep = [l for l in text.splitlines()
            if not l.startswith(("archival", "inbound_journal", "outbound_journal"))]
    return "\n".join(keep) + "\n"


def set_policy(journaling):
    """Writes the policy (journaling and archival on or off) and reloads the daemon with
    SIGHUP, waiting for the log to confirm."""
    start = len(log_lines())
    with open(POLICY, "w") as f:
        f.write(policy_text(journaling))
    os.kill(daemon_pid(), signal.SIGHUP)
    wait_log(lambda l: "policy reloaded" in l, "the reload", start=start)


def ids_in(d):
    """Message-Ids of the files in a Maildir, with their counts; for journal reports the
    Message-Id of the attached original (the last one in the file)."""
    counts = {}
    for p in files(d):
        with open(p, "rb") as f:
            found = MSGID.findall(f.read())
        if found:
            counts[found[-1]] = counts.get(found[-1], 0) + 1
    return counts


def queue_empty():
    out = subprocess.run(["postqueue", "-p"], capture_output=True, text=True, timeout=30).stdout
    return "Mail queue is empty" in out


def run(port, n, journaling, cpu_pid=0, sessions=20, size=2000, timeout=600):
    """One load run; returns a dict of counts and rates. Journal mailboxes must be empty
    before (they are cleared here)."""
    boxes = [maildir("load"), maildir("2load")]
    jboxes = [maildir("journal1", "journal.internal"), maildir("journal2", "journal.internal")]
    clear(*boxes, *jboxes)
    pid = cpu_pid
    c0 = cpu_ticks(pid) if pid else 0
    t0 = time.time()
    src = subprocess.run(
        ["timeout", str(timeout), "smtp-source", "-s", str(sessions), "-m", str(n), "-r", "2",
         "-l", str(size), "-f", "load-sender@partner.example", "-t", "load@example.com",
         f"127.0.0.1:{port}"],
        capture_output=True, text=True)
    client_s = time.time() - t0
    want = 2 * n + (2 * n if journaling else 0)
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = sum(len(files(d)) for d in boxes + (jboxes if journaling else []))
        if got >= want and queue_empty():
            break
        time.sleep(0.2)
    c1 = cpu_ticks(pid) if pid else 0
    last = max((os.stat(p).st_mtime for d in boxes + jboxes for p in files(d)), default=t0)
    e2e = max(last - t0, 1e-6)
    res = {"port": port, "n": n, "journaling": journaling, "client_rc": src.returncode,
           "client_err": (src.stdout + src.stderr).strip()[-300:], "e2e_s": e2e,
           "msg_per_s": n / e2e, "client_s": client_s,
           "daemon_cpu_ms_per_msg": (1000.0 * (c1 - c0) / HZ / n) if pid else None}
    for name, d in zip(("load", "2load"), boxes):
        ids = ids_in(d)
        res[name] = {"files": len(files(d)), "distinct": len(ids),
                     "duplicates": sum(c - 1 for c in ids.values())}
    if journaling:
        for name, d in zip(("journal1", "journal2"), jboxes):
            ids = ids_in(d)
            res[name] = {"files": len(files(d)), "distinct": len(ids),
                         "duplicates": sum(c - 1 for c in ids.values())}
    res["queue_empty"] = queue_empty()
    return res


def ok_counts(res):
    """Every message delivered exactly once per recipient (and journaled exactly once)."""
    n = res["n"]
    names = ["load", "2load"] + (["journal1", "journal2"] if res["journaling"] else [])
    return (res["client_rc"] == 0 and res["queue_empty"]
            and all(res[k]["distinct"] == n and res[k]["duplicates"] == 0 for k in names))


def describe(label, res):
    cpu = res["daemon_cpu_ms_per_msg"]
    parts = [f"{label:<28} {res['n']:>6} msgs  {res['msg_per_s']:7.1f} msg/s end to end  "
             f"(client {res['client_s']:.1f}s, e2e {res['e2e_s']:.1f}s)"]
    if cpu is not None:
        parts.append(f"daemon CPU {cpu:.3f} ms/msg")
    names = ["load", "2load"] + (["journal1", "journal2"] if res["journaling"] else [])
    parts.append("counts " + " ".join(
        f"{k}={res[k]['distinct']}/{res['n']}" + (f"+{res[k]['duplicates']}dup" if res[k]["duplicates"] else "")
        for k in names))
    return "  ".join(parts)


class NullProxy:
    """The do-nothing before-queue filter of the shared benchmark (a byte pipe from
    127.0.0.1:10025 to the re-injection smtpd), run in place of the daemon."""

    def __init__(self, script):
        self.script = script
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, self.script, "127.0.0.1", "10025", "10026"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["ss", "-Hltn", "sport = :10025"], capture_output=True,
                              text=True).stdout.strip():
                return self
            time.sleep(0.1)
        self.__exit__()
        sys.exit("FAIL: the null proxy did not listen on 127.0.0.1:10025")

    def cpu_ticks(self):
        return cpu_ticks(self.proc.pid)

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def extract_null_proxy(bench_script, dest):
    """Copies the null proxy (nullproxy.py) out of the shared postfix-proxy-bench."""
    text = open(bench_script).read()
    m = re.search(r"cat > \"\$TMP/nullproxy.py\" <<'PY'\n(.*?)\nPY\n", text, re.S)
    if not m:
        sys.exit(f"FAIL: no nullproxy.py in {bench_script}")
    with open(dest, "w") as f:
        f.write(m.group(1) + "\n")
    return dest


def restart_daemon(cmd, log=PROXY_LOG):
    """Starts the daemon again (after a kill -9) and records its PID for run.sh's trap."""
    with open(log, "ab") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=out, start_new_session=True)
    with open(PIDFILE, "w") as f:
        f.write(str(p.pid))
    for _ in range(200):
        if subprocess.run(["ss", "-Hltn", "sport = :10025"], capture_output=True, text=True).stdout.strip():
            return p.pid
        time.sleep(0.05)
    sys.exit("FAIL: the restarted daemon does not listen")


def stop_daemon_for(seconds_budget=10):
    """Stops the daemon (SIGTERM, graceful drain) so another proxy can take its port."""
    pid = daemon_pid()
    if pid:
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + seconds_budget
        while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
            try:
                if open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            except OSError:
                break
            time.sleep(0.05)
    return pid


def which(tool):
    return shutil.which(tool)
