#!/usr/bin/env python3
"""The independent half of tests/corpus.rs: Python's `email` package reads each journal
report and its original, and must agree with the report.

Usage: corpus_check.py PAIRS   (PAIRS: lines of "ORIGINAL<TAB>REPORT")

For every pair: the report parses with no defects of its own, has exactly two parts (the
summary and the message/rfc822 attachment), the attachment's bytes (split out by
boundary, independently of any Rust code) are the original's exactly, and the summary's
Subject and Message-ID are Python's reading of the original: the last Subject, unfolded
and decoded, and the first Message-ID. Where Python does not see a header block at all
(a first line it does not take for a header, such as an obsolete `Name :` field, which
RFC 5322 section 4.5 allows and the engine reads), only the report's structure is
checked. Prints one line per disagreement and "checked N bad M"; exits 1 if M > 0.
"""
import importlib.util
import os
import re
import sys
from email import errors, policy
from email.parser import BytesParser

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("pwp", os.path.join(HERE, "parse_with_python.py"))
pwp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pwp)


def norm(s):
    return None if s is None else re.sub(r"\s+", " ", s).strip()


def check(orig_path, report_path):
    original = open(orig_path, "rb").read()
    data = open(report_path, "rb").read()
    problems = []
    report = BytesParser(policy=policy.default).parsebytes(data)
    if report.defects:
        problems.append(("report defects", [type(d).__name__ for d in report.defects]))
    parts = list(report.iter_parts()) if report.is_multipart() else []
    if [p.get_content_type() for p in parts] != ["text/plain", "message/rfc822"]:
        problems.append(("parts", [p.get_content_type() for p in parts]))
        return problems
    if parts[0].defects:
        problems.append(("summary defects", [type(d).__name__ for d in parts[0].defects]))
    raw = pwp.split_parts(data, report.get_param("boundary"))
    if not any(b"message/rfc822" in h.lower() and b == original for h, b in raw):
        problems.append(("attachment is not the original", len(raw)))
    fields = {}
    for line in parts[0].get_content().splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)

    mine = BytesParser(policy=policy.default).parsebytes(original)
    if any(isinstance(d, errors.MissingHeaderBodySeparatorDefect) for d in mine.defects) and not mine.keys():
        return problems
    subjects = mine.get_all("subject") or []
    py_subject = str(subjects[-1]) if subjects else None
    ours = fields.get("Subject", [None])[0]
    if norm(py_subject) != norm(ours) and not (py_subject is None and ours in (None, "")):
        problems.append(("subject", py_subject, ours))
    raw_ids = BytesParser(policy=policy.compat32).parsebytes(original).get_all("message-id") or []
    py_id = norm(raw_ids[0]) if raw_ids else None
    ours = fields.get("Message-ID", [None])[0]
    if (py_id or "Unknown Message-ID") != norm(ours):
        problems.append(("message-id", py_id, ours))
    return problems


def main():
    pairs = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l]
    bad = 0
    for orig, rep in pairs:
        problems = check(orig, rep)
        if problems:
            bad += 1
            print(orig, problems)
    print(f"checked {len(pairs)} bad {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
