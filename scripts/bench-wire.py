#!/usr/bin/env python3
"""Write the byte stream qimport sends for the bench's users table, in two halves.

scripts/bench.sh loads these with mariadb-import to measure the floor of `qimport -j 2`:
the server's work on qimport's own stream with no parsing or checking on the client.
The input is scripts/gen-users.py's LOAD DATA text (the avatar as hex); qimport sends the
same fields with the avatar as its raw bytes, escaped the LOAD DATA way.

usage: bench-wire.py USERS.TSV HALF OUT_A OUT_B
"""
import binascii
import os
import sys

ESCAPES = {0x5C: b"\\\\", 0x09: b"\\t", 0x0A: b"\\n", 0x0D: b"\\r", 0x00: b"\\0"}


def escaped(raw: bytes) -> bytes:
    return b"".join(ESCAPES.get(c, bytes([c])) for c in raw)


def main() -> None:
    src, half, out_a, out_b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    for path in (out_a, out_b):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(out_a, "wb") as a, open(out_b, "wb") as b, open(src, "rb") as lines:
        for i, line in enumerate(lines):
            fields = line.rstrip(b"\n").split(b"\t")
            if fields[-1] != b"\\N":
                fields[-1] = escaped(binascii.unhexlify(fields[-1]))
            (a if i < half else b).write(b"\t".join(fields) + b"\n")


if __name__ == "__main__":
    main()
