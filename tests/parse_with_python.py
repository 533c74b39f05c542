#!/usr/bin/env python3
"""An independent parser for the renderers' output: Python's standard `email` package.

Usage: parse_with_python.py RENDERED [ORIGINAL]

Prints one JSON object with what Python recovers: headers, defects, the MIME tree, the
decoded text parts, the delivery-status fields, and whether the bytes of the
message/rfc822 part (split out by boundary, independently of any Rust code) equal
ORIGINAL exactly.
"""
import json
import sys
from email import policy
from email.parser import BytesParser


def headers(msg):
    out = {}
    for name, value in msg.items():
        out.setdefault(name.lower(), []).append(str(value))
    return out


def split_parts(data, boundary):
    """The raw bodies of a multipart's parts, by RFC 2046 rules."""
    delim = b"--" + boundary.encode()
    bodies = []
    # The first delimiter may be at the very start or after a CRLF.
    pieces = data.split(b"\r\n" + delim)
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        piece = piece[2:] if piece.startswith(b"\r\n") else piece
        head, _, body = piece.partition(b"\r\n\r\n")
        bodies.append((head, body))
    return bodies


def main():
    data = open(sys.argv[1], "rb").read()
    original = open(sys.argv[2], "rb").read() if len(sys.argv) > 2 else None
    msg = BytesParser(policy=policy.default).parsebytes(data)
    result = {
        "headers": headers(msg),
        "content_type": msg.get_content_type(),
        "params": {k: v for k, v in msg.get_params() or []},
        "defects": [type(d).__name__ for part in msg.walk() for d in part.defects],
        "parts": [],
        "status": [],
    }
    if msg.is_multipart():
        for part in msg.iter_parts():
            ct = part.get_content_type()
            entry = {"content_type": ct, "headers": headers(part)}
            if ct.startswith("text/"):
                entry["text"] = part.get_content()
            if ct == "message/rfc822":
                inner = part.get_payload(0)
                entry["inner_headers"] = headers(inner)
            if ct == "message/delivery-status":
                for block in part.get_payload():
                    result["status"].append({k.lower(): str(v) for k, v in block.items()})
            result["parts"].append(entry)
        boundary = msg.get_param("boundary")
        raw = split_parts(data, boundary)
        result["raw_part_count"] = len(raw)
        if original is not None:
            result["rfc822_equals_original"] = any(
                b"message/rfc822" in head.lower() and body == original for head, body in raw
            )
    else:
        result["body_equals_original"] = original is not None and data.endswith(original)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
