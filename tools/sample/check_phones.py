#!/usr/bin/env python3
"""Check that every phone number in an LDIF file is valid per libphonenumber.

Usage: python3 tools/sample/check_phones.py [FILE]      (default ldif/sample.ldif)

Needs the Python package phonenumbers (`pip install phonenumbers`; 9.0.33 has the metadata of
the Rust crate ccdir uses). Every value of telephoneNumber, mobile, cctldEmergencyTelephoneNumber,
facsimileTelephoneNumber, pager and homePhone (and their other names) must parse as an
international number (parse(text, None)) and be valid (is_valid_number), as ccdir checks them.
Prints the count and each invalid value; exit status 1 when there is one.
"""

import os
import sys

import phonenumbers as pn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_sample import parse_ldif  # noqa: E402

PHONE_ATTRS = {"telephonenumber", "mobile", "mobiletelephonenumber",
               "cctldemergencytelephonenumber", "facsimiletelephonenumber", "fax", "pager",
               "pagertelephonenumber", "homephone", "hometelephonenumber"}


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(
        os.path.join(HERE, "..", "..", "ldif", "sample.ldif"))
    with open(path, encoding="utf-8") as f:
        entries = parse_ldif(f.read())
    total, bad = 0, []
    for dn, avs in entries:
        for a, v in avs:
            if a.lower() not in PHONE_ATTRS:
                continue
            total += 1
            try:
                ok = pn.is_valid_number(pn.parse(v, None))
            except pn.NumberParseException:
                ok = False
            if not ok:
                bad.append((dn, a, v))
    for dn, a, v in bad:
        print(f"INVALID {a}: {v} ({dn})")
    print(f"{path}: {total - len(bad)} of {total} phone values valid "
          f"(phonenumbers {pn.__version__})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
