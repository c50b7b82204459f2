#!/usr/bin/env python3
"""Seeded generator of the benchmark `users` table.

    python3 scripts/gen-users.py ROWS [SEED] > users.tsv

Writes LOAD DATA's default text format (tab-separated, backslash escapes, \\N for NULL),
with the avatar as hex (load it with SET avatar = UNHEX(@avatar)); see scripts/bench.sh.
The data is built to be hard on line-based tools: text with commas and quotes, 5% of bios
with a line break, NULLs, DECIMAL, DATETIME, and a small BLOB of arbitrary bytes. About a
third of the e-mails are at gmail.com. The same ROWS and SEED always give the same bytes.
"""
import random
import sys

SCHEMA = """CREATE TABLE users (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(255) NULL,
  city VARCHAR(50) NOT NULL,
  bio TEXT NULL,
  balance DECIMAL(12,2) NOT NULL,
  created DATETIME NOT NULL,
  avatar VARBINARY(16) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--schema":
        print(SCHEMA + ";")
        return
    rows = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 42)
    first = ["Ana", "Bo", "Chloé", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivo", "Jun",
             "Kofi", "Lena", "Mo", "Nils", "Olga", "Pia", "Quinn", "Raj", "Sven", "Tao",
             "O'Brien", "José", "Zoë", "Wei", "Amara", "Noor", "Luca", "Maya"]
    last = ["Smith", "Müller", "Núñez", "O'Neil", "Kowalski", "Ng", "da Silva", "Østergaard",
            "Brown", "Garcia", "Ivanova", "Tanaka", "Okafor", "Rossi", "Dubois", "Kim"]
    domains = ["gmail.com"] * 30 + ["yahoo.com"] * 20 + ["outlook.com"] * 20 + \
              ["example.org"] * 15 + ["proton.me"] * 10 + ["mail.ru"] * 5
    cities = [f"City{i:03d}" for i in range(200)] + ["São Paulo", "Zürich", "Kraków", "Reykjavík"]
    words = ("data engineer, likes \"quoted\" words; coffee, tea, and long walks; "
             "DBA at night, runner by day; loves CSV (sometimes)").split(" ")
    out = sys.stdout
    buf = []
    for i in range(1, rows + 1):
        f, l = rng.choice(first), rng.choice(last)
        name = f"{f} {l}"
        r = rng.random()
        email = "\\N" if r < 0.03 else f"{f.lower().replace(chr(39), '')}.{i}@{rng.choice(domains)}"
        city = rng.choice(cities)
        r = rng.random()
        if r < 0.04:
            bio = "\\N"
        else:
            bio = " ".join(rng.choice(words) for _ in range(rng.randint(6, 14)))
            if r > 0.95:
                bio = bio.replace("; ", ";\\n", 1)  # a line break inside the field
        balance = f"{rng.randint(-100000, 9999999) / 100:.2f}"
        created = (f"20{rng.randint(10, 25):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                   f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}")
        avatar = "\\N" if rng.random() < 0.1 else rng.randbytes(rng.randint(4, 16)).hex()
        buf.append(f"{i}\t{name}\t{email}\t{city}\t{bio}\t{balance}\t{created}\t{avatar}\n")
        if len(buf) >= 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


if __name__ == "__main__":
    main()
