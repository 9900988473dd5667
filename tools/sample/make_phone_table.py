#!/usr/bin/env python3
"""Write tools/sample/phone_table.py: the phone numbering plans gen_sample.py draws from.

Run by hand when the numbering rules change (gen_sample.py itself needs only the standard
library and the table this writes):

    python3 -m venv /tmp/pn && /tmp/pn/bin/pip install phonenumbers==9.0.33
    python3 -m venv /tmp/pn-new && /tmp/pn-new/bin/pip install phonenumbers    # the newest
    /tmp/pn/bin/python tools/sample/make_phone_table.py --also-valid-with /tmp/pn-new/bin/python

phonenumbers 9.0.33 carries libphonenumber's metadata 9.0.33, the metadata the Rust crate
`phonenumber` 0.3.10+9.0.33 bundles, with which ccdir checks the numbers it stores; another
version is refused unless --any-version is given. --also-valid-with names an interpreter with
another phonenumbers version (the table in the repository was made with 9.0.43 there): only
numbers that version accepts too are kept, and its example numbers are tried after 9.0.33's,
so the sample survives a metadata update of the crate. The versions are written into the table.

For every ISO 3166 code in CALLING_CODE below, and for the non-geographic satellite code +881,
it writes two templates, one for fixed-line numbers (telephoneNumber,
cctldEmergencyTelephoneNumber, facsimileTelephoneNumber) and one for `mobile`, with `#` where
the varied digits go, and the variants that are valid:

- a range reserved for fiction, where the numbering plan has one and libphonenumber accepts the
  whole range: NANP 555-0100..0199 (in the area code NANP_AREA gives the country; libphonenumber
  refuses it in many Caribbean area codes), UK 020 7946 0000..0999 (GB and the Crown
  Dependencies, which share the plan), Australia 0491 570 000..999 (AU, CC, CX), France
  01 99 00 00 00..99; used for fixed lines and mobiles alike;
- otherwise libphonenumber's example number for the region (FIXED_LINE, or MOBILE) with its last
  two digits varied, keeping the variants that are still valid numbers of the same kind (fixed
  line: FIXED_LINE or FIXED_LINE_OR_MOBILE; mobile: MOBILE or FIXED_LINE_OR_MOBILE) and that
  format the same way; when no variant of the pinned version's example is valid everywhere, the
  other versions' examples are tried; the example itself when no variant is left. Where regions
  share a plan (AX with FI, SJ with NO) libphonenumber may attribute a variant, or the example
  itself, to the plan's main region: it is a valid number of the calling code all the same. A
  code libphonenumber has no metadata for (AQ, BV, EU, GS, HM, PN, TF) takes the main region of
  its calling code (NF, NO, BE, FK, NF, NZ, RE).

Every number is formatted with format_number(..., INTERNATIONAL), e.g. "+49 30 123456" (dots,
which only New Caledonia's format has, become spaces).
"""

import argparse
import json
import os
import subprocess
import sys

import phonenumbers as pn
from phonenumbers import PhoneNumberFormat, PhoneNumberType as T

HERE = os.path.dirname(os.path.abspath(__file__))

# Country calling codes (ITU-T E.164 assignments), checked against libphonenumber's below.
# The ISO codes here are the ones the table covers (every code gen_sample.py may need).
CALLING_CODE = dict(x.split(":") for x in """
AC:247 AD:376 AE:971 AF:93 AG:1 AI:1 AL:355 AM:374 AO:244 AQ:672 AR:54 AS:1 AT:43 AU:61
AW:297 AX:358 AZ:994 BA:387 BB:1 BD:880 BE:32 BF:226 BG:359 BH:973 BI:257 BJ:229 BL:590
BM:1 BN:673 BO:591 BQ:599 BR:55 BS:1 BT:975 BV:47 BW:267 BY:375 BZ:501 CA:1 CC:61 CD:243
CF:236 CG:242 CH:41 CI:225 CK:682 CL:56 CM:237 CN:86 CO:57 CR:506 CU:53 CV:238 CW:599
CX:61 CY:357 CZ:420 DE:49 DJ:253 DK:45 DM:1 DO:1 DZ:213 EC:593 EE:372 EG:20 EH:212 ER:291
ES:34 ET:251 EU:32 FI:358 FJ:679 FK:500 FM:691 FO:298 FR:33 GA:241 GB:44 GD:1 GE:995
GF:594 GG:44 GH:233 GI:350 GL:299 GM:220 GN:224 GP:590 GQ:240 GR:30 GS:500 GT:502 GU:1
GW:245 GY:592 HK:852 HM:672 HN:504 HR:385 HT:509 HU:36 ID:62 IE:353 IL:972 IM:44 IN:91
IO:246 IQ:964 IR:98 IS:354 IT:39 JE:44 JM:1 JO:962 JP:81 KE:254 KG:996 KH:855 KI:686
KM:269 KN:1 KP:850 KR:82 KW:965 KY:1 KZ:7 LA:856 LB:961 LC:1 LI:423 LK:94 LR:231 LS:266
LT:370 LU:352 LV:371 LY:218 MA:212 MC:377 MD:373 ME:382 MF:590 MG:261 MH:692 MK:389
ML:223 MM:95 MN:976 MO:853 MP:1 MQ:596 MR:222 MS:1 MT:356 MU:230 MV:960 MW:265 MX:52
MY:60 MZ:258 NA:264 NC:687 NE:227 NF:672 NG:234 NI:505 NL:31 NO:47 NP:977 NR:674 NU:683
NZ:64 OM:968 PA:507 PE:51 PF:689 PG:675 PH:63 PK:92 PL:48 PM:508 PN:64 PR:1 PS:970
PT:351 PW:680 PY:595 QA:974 RE:262 RO:40 RS:381 RU:7 RW:250 SA:966 SB:677 SC:248 SD:249
SE:46 SG:65 SH:290 SI:386 SJ:47 SK:421 SL:232 SM:378 SN:221 SO:252 SR:597 SS:211 ST:239
SV:503 SX:1 SY:963 SZ:268 TC:1 TD:235 TF:262 TG:228 TH:66 TJ:992 TK:690 TL:670 TM:993
TN:216 TO:676 TR:90 TT:1 TV:688 TW:886 TZ:255 UA:380 UG:256 UM:1 US:1 UY:598 UZ:998
VA:39 VC:1 VE:58 VG:1 VI:1 VN:84 VU:678 WF:681 WS:685 YE:967 YT:262 ZA:27 ZM:260 ZW:263
""".split())
# NANP area code per +1 country: 555-0100..0199 in it where libphonenumber accepts that range.
NANP_AREA = {
    "US": "202", "CA": "613", "AG": "268", "AI": "264", "AS": "684", "BB": "246",
    "BM": "441", "BS": "242", "DM": "767", "DO": "809", "GD": "473", "GU": "671",
    "JM": "876", "KN": "869", "KY": "345", "LC": "758", "MP": "670", "MS": "664",
    "PR": "787", "SX": "721", "TC": "649", "TT": "868", "VC": "784", "VG": "284",
    "VI": "340", "UM": "808",
}
PINNED = "9.0.33"
FIXED_KINDS = {T.FIXED_LINE, T.FIXED_LINE_OR_MOBILE}
MOBILE_KINDS = {T.MOBILE, T.FIXED_LINE_OR_MOBILE}
# Ranges reserved for fiction: plan -> (national number with # for the varied digits).
FICTION = {"44": "2079460###", "61": "491570###", "33": "1990000##"}
SATELLITE = "881"     # cctldOtherTelecom's "satellite phone +881 ..." (free text)


def fmt(n):
    """International format, with spaces for the dots one plan uses (NC: +687 20.12.34), so
    that every sample number is digits, spaces and hyphens (tests/it/roster.rs and the tel:
    URIs of the roster take spaces as the separators)."""
    return pn.format_number(n, PhoneNumberFormat.INTERNATIONAL).replace(".", " ")


def spans(values):
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8'."""
    out, values = [], sorted(values)
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        out.append(str(values[i]) if i == j else f"{values[i]}-{values[j]}")
        i = j + 1
    return ",".join(out)


def variants(code, national, kinds):
    """Template and valid variants of +code national (with '#' for the varied digits), as
    {value: E.164 string}."""
    width = national.count("#")
    head = national.replace("#", "")
    ok, template = {}, None
    for i in range(10 ** width):
        digits = f"{i:0{width}d}"
        e164 = f"+{code}{head}{digits}"
        n = pn.parse(e164, None)
        if not pn.is_valid_number(n):
            continue
        if kinds is not None and pn.number_type(n) not in kinds:
            continue
        text = fmt(n)
        if not text.endswith(digits):
            continue
        t = text[:-width] + "#" * width
        if template is None:
            template = t
        if t == template:
            ok[i] = e164
    return template, ok


def example(region, kind):
    """libphonenumber's example number (E.164) for a region and kind ('fixed', 'mobile') or for
    the non-geographic calling code `kind` when region is '001'; None when there is none."""
    if region == "001":
        ex = pn.example_number_for_non_geo_entity(int(kind))
    else:
        ex = pn.example_number_for_type(region, T.FIXED_LINE if kind == "fixed" else T.MOBILE)
    return None if ex is None else pn.format_number(ex, PhoneNumberFormat.E164)


def answer(request):
    """What --answer prints: this interpreter's phonenumbers version, examples and verdicts."""
    return {"version": pn.__version__,
            "examples": [example(r, k) for r, k in request.get("examples", [])],
            "valid": [pn.is_valid_number(pn.parse(x, None)) for x in request.get("numbers", [])]}


def ask(python, request):
    out = subprocess.run([python, os.path.abspath(__file__), "--answer"], check=True,
                         input=json.dumps(request), capture_output=True, text=True).stdout
    return json.loads(out)


def build(others):
    """The table's rows; others: interpreters with other phonenumbers versions."""
    plans = {}                      # (cc, kind) -> (region, source, fiction national or None)
    for cc in sorted(CALLING_CODE):
        code = CALLING_CODE[cc]
        if cc in pn.SUPPORTED_REGIONS:
            region, source = cc, "example"
        else:
            region = pn.region_code_for_country_code(int(code))
            source = f"example of {region}"
        if pn.country_code_for_region(region) != int(code):
            raise SystemExit(f"{cc}: calling code {code} here, "
                             f"{pn.country_code_for_region(region)} in libphonenumber")
        fiction = (NANP_AREA.get(cc, "202") + "55501##" if code == "1" else FICTION.get(code))
        for kind in ("fixed", "mobile"):
            plans[cc, kind] = (region, source, fiction)
    plans["+" + SATELLITE, "fixed"] = ("001", "example", None)

    # Candidates, best first: the fiction range, this version's example, the others' examples.
    keys = sorted({(r, k if r != "001" else SATELLITE) for (cc, k), (r, _, _) in plans.items()})
    examples = {key: [example(*key)] for key in keys}
    versions = [pn.__version__]
    for py in others:
        reply = ask(py, {"examples": keys})
        versions.append(reply["version"])
        for key, ex in zip(keys, reply["examples"]):
            examples[key].append(ex)
    candidates = {}
    for (cc, kind), (region, source, fiction) in plans.items():
        cands = []
        if fiction:
            code = CALLING_CODE[cc]
            template, ok = variants(code, fiction, None)
            if len(ok) == 10 ** fiction.count("#"):      # the whole range, or not at all
                cands.append(("fiction", template, ok, True))
        kinds = None if region == "001" else FIXED_KINDS if kind == "fixed" else MOBILE_KINDS
        seen = set()
        for version, ex in zip(versions, examples[region, kind if region != "001" else SATELLITE]):
            if ex is None or ex in seen:
                continue
            seen.add(ex)
            n = pn.parse(ex, None)
            nsn = pn.national_significant_number(n)
            template, ok = variants(n.country_code, nsn[:-2] + "##", kinds)
            note = "" if version == pn.__version__ else f" from phonenumbers {version}"
            if ok:
                cands.append((source + note, template, ok, False))
        candidates[cc, kind] = cands

    # Keep the numbers every other version accepts too.
    numbers = sorted({x for cands in candidates.values() for c in cands for x in c[2].values()})
    accepted = set(numbers)
    for py in others:
        verdicts = ask(py, {"numbers": numbers})["valid"]
        accepted &= {x for x, v in zip(numbers, verdicts) if v}

    chosen = {}
    for (cc, kind), cands in candidates.items():
        for source, template, ok, whole in cands:
            keep = [i for i, x in ok.items() if x in accepted]
            if keep and (not whole or len(keep) == len(ok)):
                chosen[cc, kind] = (source, template, keep)
                break
        else:          # nothing valid everywhere: this version's example itself, every time
            region = plans[cc, kind][0]
            ex = pn.parse(examples[region, kind if region != "001" else SATELLITE][0], None)
            text = fmt(ex)
            chosen[cc, kind] = (plans[cc, kind][1] + " (example itself)", text[:-2] + "##",
                                [int(text[-2:])])
    rows = {}
    for (cc, kind), (source, template, keep) in chosen.items():
        if kind == "mobile":
            continue
        region = plans[cc, kind][0]
        if source == "fiction":
            region = pn.region_code_for_number(pn.parse(template.replace("#", "0"), None))
        ms, mt, mkeep = chosen.get((cc, "mobile"), (source, template, keep))
        if ms != source:
            source = f"{source}; mobile: {ms}"
        rows[cc] = (region, source, template, spans(keep), mt, spans(mkeep))
    return rows, versions


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", default=os.path.join(HERE, "phone_table.py"))
    ap.add_argument("--any-version", action="store_true",
                    help=f"accept a phonenumbers version other than {PINNED}")
    ap.add_argument("--also-valid-with", metavar="PYTHON", action="append", default=[],
                    help="an interpreter with another phonenumbers version: keep only numbers "
                         "it accepts too, and try its example numbers too (repeatable)")
    ap.add_argument("--answer", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.answer:
        print(json.dumps(answer(json.load(sys.stdin))))
        return
    if pn.__version__ != PINNED and not args.any_version:
        raise SystemExit(f"phonenumbers {pn.__version__}: this table is made with {PINNED} "
                         f"(the metadata of the Rust crate phonenumber 0.3.10+{PINNED})")
    rows, versions = build(args.also_valid_with)
    also = (f";\nevery number is valid in phonenumbers {', '.join(versions[1:])} too"
            if versions[1:] else "")
    lines = [
        '"""Phone numbering plans for gen_sample.py. GENERATED: do not edit.',
        "",
        "Written by tools/sample/make_phone_table.py with the Python package phonenumbers",
        f"{versions[0]} (libphonenumber's metadata {versions[0]}, which the Rust crate",
        f"phonenumber 0.3.10+9.0.33 bundles){also}.",
        "",
        "PLANS: ISO 3166 code (or '+881', the satellite code) -> (libphonenumber region,",
        "source, fixed-line template, its valid variants, mobile template, its valid",
        "variants). A template is a number in international format with '#' for the",
        "varied digits; the variants are the values (as ranges) those digits may take.",
        "source: 'fiction' for a range reserved for fiction, 'example' for libphonenumber's",
        "example number of the region, 'example of XX' where libphonenumber has no metadata",
        "of the code's own and the calling code's main region is used; 'from phonenumbers",
        "V' when the example is that version's, not the first one's.",
        '"""',
        "",
        f'PHONENUMBERS_VERSIONS = {versions!r}',
        "",
        "PLANS = {",
    ]
    for cc, row in rows.items():
        lines.append(f"    {cc!r}: {row!r},")
    lines.append("}")
    with open(args.output, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    fic = sum(r[1] == "fiction" for r in rows.values())
    print(f"wrote {args.output}: {len(rows)} plans ({fic} fiction ranges), "
          f"phonenumbers {', '.join(versions)}")


if __name__ == "__main__":
    main()
