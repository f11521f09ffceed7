#!/usr/bin/env python3
"""Writes examples/recipients.csv: the demo's recipient list for `mailerctl send`.

Deterministic (fixed seed, Python 3 stdlib only), so the committed CSV and the
counts the integration test expects never drift:

  1000 unique valid recipients (3 of them on `mailerctl seed`'s suppression list)
     6 duplicates: an earlier address again with the domain in another case
     4 invalid addresses
  ----
  1010 data rows

Every domain is a reserved example domain (RFC 2606): example.com, example.net,
example.org. Run: python3 examples/gen_recipients.py > examples/recipients.csv
"""

import csv
import random
import sys
import unicodedata

SEED = 20261201
UNIQUE = 1000
DOMAINS = ["example.com", "example.net", "example.org"]

FIRST_NAMES = [
    "Ana", "José", "Zoë", "Łukasz", "佐藤", "Chloé", "Søren", "Müge", "Björn", "Ines",
    "Mateo", "Amélie", "Jürgen", "Siobhán", "Dvořák", "Ngọc", "Olumide", "Priya", "Kwame", "Elif",
    "Noah", "Emma", "Liam", "Olivia", "Ravi", "Mei", "Yusuf", "Ingrid", "Tomás", "Agnieszka",
    "Hana", "Kenji", "Fatima", "Lars", "Sofía", "Øystein", "Renée", "Dmitri", "Aroha", "Grace",
]
ASCII_LOCAL = {"佐藤": "sato", "Ngọc": "ngoc", "Dvořák": "dvorak", "Łukasz": "lukasz", "Øystein": "oystein", "Søren": "soren"}
LAST_NAMES = [
    "garcia", "muller", "kowalski", "tanaka", "dubois", "rossi", "silva", "jensen", "novak",
    "okafor", "patel", "nguyen", "schmidt", "larsen", "moreau", "costa", "yilmaz", "smith",
]
CITIES = [
    "München", "São Paulo", "Kraków", "東京", "Zürich", "Reykjavík", "Montréal", "Łódź",
    "Washington, D.C.", "Oslo", "Lisboa", "Köln", "Malmö", "Genève", "Berlin", "Dublin",
]
PLANS = ["free", "starter", "pro", "business"]
SUPPRESSED = ["bounced.reader@example.org", "complained.reader@example.net", "unsubscribed.reader@example.com"]
INVALID = ["not-an-email", "ü@example.com", "two@@example.net", "jane..doe@example.org"]


def ascii_local(first):
    if first in ASCII_LOCAL:
        return ASCII_LOCAL[first]
    decomposed = unicodedata.normalize("NFKD", first)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def unique_rows(rng):
    rows, seen = [], set(SUPPRESSED)
    for email in SUPPRESSED:
        rows.append([email, "Demo", rng.choice(CITIES), rng.choice(PLANS)])
    while len(rows) < UNIQUE:
        first = rng.choice(FIRST_NAMES)
        local = f"{ascii_local(first)}.{rng.choice(LAST_NAMES)}{rng.randrange(1, 1000)}"
        email = f"{local}@{rng.choice(DOMAINS)}"
        if email in seen:
            continue
        seen.add(email)
        rows.append([email, first, rng.choice(CITIES), rng.choice(PLANS)])
    rng.shuffle(rows)
    return rows


def main():
    rng = random.Random(SEED)
    rows = unique_rows(rng)
    for i in range(6):  # the same mailbox again, domain upper-cased: sent once
        local, domain = rows[i * 97 + 5][0].split("@")
        rows.insert(rng.randrange(len(rows)), [f"{local}@{domain.upper()}"] + rows[i * 97 + 5][1:])
    for email in INVALID:
        rows.insert(rng.randrange(len(rows)), [email, "Invalid", rng.choice(CITIES), rng.choice(PLANS)])
    writer = csv.writer(sys.stdout, lineterminator="\r\n")  # RFC 4180 line breaks
    writer.writerow(["email", "first_name", "city", "plan"])
    writer.writerows(rows)


if __name__ == "__main__":
    main()
