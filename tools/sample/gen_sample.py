#!/usr/bin/env python3
"""Generate the fictional sample directory ldif/sample.ldif for ccdir.

Real ccTLD strings, countries, time zones and languages, taken from Debian
packages (iso-codes, publicsuffix, tzdata, unicode-cldr-core); invented people,
`.example` mail domains, and phone numbers that libphonenumber accepts, taken
from no contact: ranges reserved for fiction, or libphonenumber's published
example numbers (the table in phone_table.py, made by make_phone_table.py).
Deterministic: the same inputs and seed give the same bytes.

Usage: python3 tools/sample/gen_sample.py [--output FILE] [--schema-dir DIR]
       [--seed N] [--no-validate]
Standard library only (phone_table.py is data). See README.md next to this file.
"""

import argparse
import base64
import calendar
import datetime as dt
import hashlib
import json
import os
import random
import re
import sys
import unicodedata
import uuid
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from names import LANG_POOL, POOLS  # noqa: E402
from phone_table import PLANS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

ISO_JSON = "/usr/share/iso-codes/json/iso_3166-1.json"
PSL = "/usr/share/publicsuffix/public_suffix_list.dat"
ZONE_TAB = "/usr/share/zoneinfo/zone.tab"
CLDR_SUPPLEMENTAL = "/usr/share/unicode/cldr/common/supplemental/supplementalData.xml"

SUFFIX = "dc=cctld-ir,dc=example"
REGISTRIES = "ou=registries," + SUFFIX
GROUPS = "ou=groups," + SUFFIX
ADMIN = "cn=admin," + SUFFIX
# Entries the server creates on first start; the sample file must not contain them.
SERVER_ENTRIES = {SUFFIX, ADMIN, REGISTRIES, GROUPS}

DEFAULT_SEED = 20261123
TODAY = dt.datetime(2026, 11, 23, 0, 0, 0)           # "now" for the overdue count
VERIFY_FROM = dt.datetime(2026, 4, 1, 0, 0, 0)
VERIFY_TO = dt.datetime(2026, 11, 20, 23, 59, 59)
UUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:example:ccdir:sample-directory")

# ccTLDs without an ISO 3166-1 entry of their own (alpha-2 used as c, name as co).
EXTRA_CCTLDS = {"AC": "Ascension Island", "EU": "European Union"}
# Zone of the capital where zone.tab's first zone for the country is not it,
# and zones for codes zone.tab lacks.
CAPITAL_ZONE = {
    "AU": "Australia/Sydney", "BR": "America/Sao_Paulo", "CA": "America/Toronto",
    "FM": "Pacific/Pohnpei", "PS": "Asia/Hebron", "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv", "UZ": "Asia/Tashkent",
    "AC": "Atlantic/St_Helena", "EU": "Europe/Brussels", "BV": "Europe/Oslo",
    "HM": "Indian/Kerguelen",
}
# Rough regional-organisation assignment: by the time zone's area, with exceptions.
REGION_BY_AREA = {"Europe": "CENTR", "Asia": "APTLD", "Australia": "APTLD",
                  "Pacific": "APTLD", "America": "LACTLD", "Africa": "AFTLD",
                  "Arctic": "CENTR"}
REGION_BY_ZONE = {
    "Atlantic/Reykjavik": "CENTR", "Atlantic/Faroe": "CENTR", "Atlantic/Canary": "CENTR",
    "Atlantic/Madeira": "CENTR", "Atlantic/Azores": "CENTR", "Atlantic/Cape_Verde": "AFTLD",
    "Atlantic/St_Helena": "AFTLD", "Atlantic/Stanley": "LACTLD",
    "Atlantic/South_Georgia": "LACTLD", "Indian/Mauritius": "AFTLD",
    "Indian/Reunion": "AFTLD", "Indian/Mayotte": "AFTLD", "Indian/Comoro": "AFTLD",
    "Indian/Antananarivo": "AFTLD", "Indian/Mahe": "AFTLD", "Indian/Maldives": "APTLD",
    "Indian/Chagos": "APTLD", "Indian/Christmas": "APTLD", "Indian/Cocos": "APTLD",
    "Asia/Nicosia": "CENTR",
}
NO_REGION = {"US", "CA", "GL", "PM", "BM", "AQ", "BV", "HM", "TF"}
# Working week where it is not Monday to Friday.
WEEK = {cc: "Su-Th" for cc in "IL EG SA KW QA BH OM JO IQ SY LY DZ SD PS".split()}
WEEK.update({cc: "Sa-We" for cc in "IR AF YE".split()})
# Language names in the public suffix list's IDN comments -> BCP 47.
IDN_LANG = {
    "arabic": {"IN": "ur", "IR": "fa", "*": "ar"}, "armenian": "hy", "bangla": "bn", "bengali": "bn", "bulgarian": "bg",
    "belarusian/russian cyrillic": "be", "chinese, simplified": "zh-Hans",
    "chinese, traditional": "zh-Hant", "chinese": "zh", "greek": "el",
    "georgian mkhedruli": "ka", "kannada": "kn", "oriya": "or", "assamese": "as",
    "sanskrit": "sa", "santali": "sat", "sindhi": "sd", "malayalam": "ml",
    "devanagari": "hi", "kashmiri": "ks", "telugu": "te", "gujarati": "gu",
    "gurmukhi": "pa", "tamil": "ta", "persian": "fa", "hangul": "ko", "kazakh": "kk",
    "lao": "lo", "sinhalese-sinhala": "si", "macedonian": "mk", "mongolian": "mn",
    "malay": "ms", "urdu/arabic": "ur", "russian-cyrillic": "ru", "thai": "th",
    "hebrew": "he", "cyrillic": {"EU": "bg", "RS": "sr", "UA": "uk"},
}
# Completeness (issue 15): every registry has a contact available 24/7 with an emergency number
# (its incident-response team) and a telephone, emergency, mobile or fax number, except these,
# left incomplete on purpose so that `ccdir check` has something to report:
#   not-247       nobody is available 24/7 (team and persons cctldAvailable247: FALSE);
#   no-emergency  the team is 24/7 but has no cctldEmergencyTelephoneNumber;
#   no-phone      no contact has any telephone, emergency, mobile or fax number (the team is
#                 24/7 by mail only), so it breaks both rules.
# The numbers these leave out are drawn all the same, so every other registry keeps its numbers.
GAPS = {"mc": "not-247", "tv": "no-emergency", "aq": "no-phone"}
GAP_NOTE = {"not-247": "not staffed 24/7", "no-emergency": "no emergency number",
            "no-phone": "no telephone, mobile or fax number"}
PHONE_ATTRS = ("telephoneNumber", "cctldEmergencyTelephoneNumber", "mobile",
               "facsimileTelephoneNumber")
TITLES = {
    "security": ["Head of Security", "Security Officer", "CSIRT Lead",
                 "Information Security Manager", "Incident Handler"],
    "technical": ["Technical Manager", "DNS Operations Engineer", "Systems Administrator",
                  "Chief Technology Officer", "Network Engineer"],
    "administrative": ["Registry Administrator", "Legal Counsel", "Policy Officer",
                       "Registrar Relations Manager"],
    "management": ["Managing Director", "Chief Executive Officer", "Registry Manager",
                   "General Manager"],
}


# --------------------------------------------------------------------------- inputs

def load_iso():
    with open(ISO_JSON, encoding="utf-8") as f:
        data = json.load(f)["3166-1"]
    return {x["alpha_2"]: x.get("common_name", x["name"]) for x in data}


def load_psl():
    """ASCII top-level labels used in the ICANN section of the list, and its IDN ccTLDs
    as (A-label given in the comment, U-label, ISO 3166 code, language in the comment)."""
    tlds, idns = set(), []
    comment_re = re.compile(r"^//\s*(xn--[a-z0-9-]+)\s+.*?\(\"[^\"]*\",\s*([^)]*)\)\s*:\s*([A-Z]{2})\s*$")
    with open(PSL, encoding="utf-8") as f:
        lines = [ln.strip() for ln in f]
    start = lines.index("// ===BEGIN ICANN DOMAINS===")
    end = lines.index("// ===END ICANN DOMAINS===")
    pending = None
    for ln in lines[start:end]:
        if not ln:
            pending = None
            continue
        if ln.startswith("//"):
            m = comment_re.match(ln)
            if m:
                pending = m.groups()
            continue
        rule = ln.lstrip("!*.")
        if rule.isascii():           # a TLD, or a rule below one (za has only those)
            tlds.add(rule.rsplit(".", 1)[-1])
        elif "." not in rule and pending:
            idns.append((pending[0], rule, pending[2], pending[1].strip()))
        pending = None
    return tlds, idns


def a_label(u_label):
    """A-label of a U-label: NFC, lower case, RFC 3492 Punycode, 'xn--' prefix (per label)."""
    out = []
    for label in unicodedata.normalize("NFC", u_label).lower().split("."):
        out.append(label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii"))
    return ".".join(out)


def load_zones():
    zones = {}
    with open(ZONE_TAB, encoding="utf-8") as f:
        for ln in f:
            if ln.startswith("#") or not ln.strip():
                continue
            parts = ln.rstrip("\n").split("\t")
            zones.setdefault(parts[0], []).append(parts[2])
    return zones


def load_languages():
    """Territory -> BCP 47 tags of its official languages, largest population share first."""
    root = ET.parse(CLDR_SUPPLEMENTAL).getroot()
    out = {}
    for terr in root.iter("territory"):
        if terr.get("type") is None or terr.find("languagePopulation") is None:
            continue
        langs = []
        for lp in terr.findall("languagePopulation"):
            tag = lp.get("type").replace("_", "-")
            if tag == "und":
                continue
            official = lp.get("officialStatus") in ("official", "de_facto_official")
            langs.append((not official, -float(lp.get("populationPercent", "0")), tag))
        langs.sort()
        official = [t for (unoff, _, t) in langs if not unoff]
        out[terr.get("type")] = official or [t for (_, _, t) in langs[:1]]
    return out


# --------------------------------------------------------------------------- helpers

def ascii_fold(s):
    special = {"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "ı": "i",
               "þ": "th", "ð": "d"}
    s = "".join(special.get(ch, ch) for ch in s.lower())
    s = unicodedata.normalize("NFKD", s)
    return re.sub(r"[^a-z0-9]", "", s.encode("ascii", "ignore").decode("ascii"))


def gtime(t):
    return t.strftime("%Y%m%d%H%M%SZ")


def add_months(t, n):
    y, m = divmod(t.month - 1 + n, 12)
    y, m = t.year + y, m + 1
    return t.replace(year=y, month=m, day=min(t.day, calendar.monthrange(y, m)[1]))


def spans(text):
    """'0-2,5' -> [0, 1, 2, 5] (the variant lists of phone_table.py)."""
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


def fill(template, value):
    width = template.count("#")
    return template.replace("#" * width, f"{value:0{width}d}")


class Phones:
    """Hands out distinct numbers that libphonenumber accepts (phone_table.py): a range reserved
    for fiction where the plan has one, else libphonenumber's example number for the region with
    its last two digits varied. One pool per template (countries sharing a plan share it), drawn
    in an order seeded by the seed and the template; a used-up pool starts over."""

    def __init__(self, seed):
        self.seed = seed
        self.pools = {}

    def number(self, cc, kind="fixed"):
        _, _, fixed, fixed_ok, mobile, mobile_ok = PLANS[cc]
        template, ok = (mobile, mobile_ok) if kind == "mobile" else (fixed, fixed_ok)
        pool = self.pools.get(template)
        if not pool:
            pool = spans(ok)
            random.Random(f"{self.seed}:{template}").shuffle(pool)
            self.pools[template] = pool
        return fill(template, pool.pop())


def satellite(i):
    """The i-th (mod) variant of libphonenumber's example number for +881 (satellite)."""
    template, ok = PLANS["+881"][2], spans(PLANS["+881"][3])
    return fill(template, ok[i % len(ok)])


# Verification channels in rotation order, and the attributes each needs (as ccdir's
# src/freshness/mod.rs has them).
CHANNELS = [("voice", ("telephoneNumber", "mobile", "cctldEmergencyTelephoneNumber")),
            ("email", ("mail",)), ("fax", ("facsimileTelephoneNumber",)),
            ("chat", ("cctldMessengerURI",)),
            ("letter", ("postalAddress", "registeredAddress", "street", "postOfficeBox"))]


def next_method(last, attrs):
    """The channel after `last` that the entry has data for (voice when none)."""
    names = {k for k, _ in attrs}
    order = [c for c, _ in CHANNELS]
    start = order.index(last) + 1 if last in order else 0
    for k in range(len(order)):
        c, needs = CHANNELS[(start + k) % len(order)]
        if names.intersection(needs):
            return c
    return "voice"


def verification(rng, attrs):
    """cctldLastVerified etc. as ccdir computes them when a verification is recorded (due three
    calendar months later, at once when the check failed); about a quarter are overdue on TODAY."""
    boundary = add_months(TODAY, -3)          # last verified before this => overdue
    if rng.random() < 0.25:
        lo, hi = VERIFY_FROM, boundary - dt.timedelta(days=1)
    else:
        lo, hi = boundary, VERIFY_TO
    last = lo + dt.timedelta(seconds=rng.randrange(int((hi - lo).total_seconds())))
    last = last.replace(second=0)
    status = rng.choices(["verified", "pending", "failed"], [82, 11, 7])[0]
    due = last if status == "failed" else add_months(last, 3)
    method = rng.choices(["voice", "email", "chat", "fax", "letter"], [40, 35, 15, 6, 4])[0]
    attrs = [("cctldLastVerified", gtime(last)), ("cctldVerificationDue", gtime(due)),
             ("cctldVerificationMethod", method), ("cctldVerificationStatus", status),
             ("cctldVerifiedBy", ADMIN),
             ("cctldVerificationNextMethod", next_method(method, attrs))]
    return attrs, due < TODAY


def fingerprint(rng):
    return "".join(rng.choice("0123456789ABCDEF") for _ in range(40))


# --------------------------------------------------------------------------- content

def registries(iso, tlds, idns, zones, languages):
    """One dict per registry, ASCII ccTLDs (sorted) then IDN ccTLDs (in list order)."""
    out = []
    codes = dict(iso)
    codes.update(EXTRA_CCTLDS)
    for cc in sorted(codes):
        tld = "uk" if cc == "GB" else cc.lower()
        if tld not in tlds:            # not a delegated ccTLD (BL, BQ, EH, MF, UM)
            continue
        out.append(dict(cc=cc, tld=tld, ulabel=None, country=codes[cc], idn_lang=None))
    for comment_alabel, ulabel, cc, lang in idns:
        alabel = a_label(ulabel)
        if alabel != comment_alabel:
            raise SystemExit(f"A-label mismatch for {ulabel}: computed {alabel}, "
                             f"list says {comment_alabel}")
        tag = IDN_LANG.get(lang.lower()) or IDN_LANG.get(lang.split(",")[0].strip().lower())
        if isinstance(tag, dict):
            tag = tag.get(cc, tag.get("*"))
        out.append(dict(cc=cc, tld=alabel, ulabel=unicodedata.normalize("NFC", ulabel),
                        country=codes[cc], idn_lang=tag))
    for r in out:
        cc = r["cc"]
        r["tz"] = CAPITAL_ZONE.get(cc) or zones[cc][0]
        if not os.path.exists(os.path.join(os.path.dirname(ZONE_TAB), r["tz"])):
            raise SystemExit(f"unknown time zone {r['tz']} for {cc}")
        area = r["tz"].split("/")[0]
        r["region"] = (None if cc in NO_REGION
                       else REGION_BY_ZONE.get(r["tz"], REGION_BY_AREA.get(area)))
        langs = list(languages.get(cc, []))[:2] or ["en"]
        if r["idn_lang"]:
            primary = r["idn_lang"].split("-")[0]
            langs = [r["idn_lang"]] + [t for t in langs if t.split("-")[0] != primary][:1]
        r["langs"] = langs
        r["dn"] = f"associatedDomain={r['tld']},{REGISTRIES}"
        r["team"] = f"cn=incident-response,{r['dn']}"
    return out


CC_POOL = {"IN": "southasian", "PK": "southasian", "LK": "southasian", "BD": "southasian",
           "NP": "southasian", "BT": "southasian", "MV": "southasian", "SG": "chinese",
           "MY": "seasian", "PH": "seasian", "HK": "chinese", "MO": "chinese", "CY": "greek",
           "IL": "hebrew", "SO": "arabic", "DJ": "arabic", "KM": "arabic", "MR": "arabic"}


# Pools a country's names are mixed with, now and then.
MIX = {
    "anglo": "french southasian african german", "german": "french italian slavic anglo",
    "dutch": "german french anglo", "nordic": "german anglo slavic",
    "french": "arabic african italian iberian", "italian": "french german slavic",
    "iberian": "latam french anglo", "latam": "iberian anglo italian",
    "slavic": "german italian russian", "russian": "slavic turkic caucasus",
    "greek": "anglo italian", "turkic": "russian persian arabic", "caucasus": "russian greek",
    "arabic": "persian french anglo southasian", "persian": "arabic turkic",
    "hebrew": "russian anglo arabic", "southasian": "anglo arabic seasian",
    "chinese": "seasian anglo", "japanese": "anglo korean", "korean": "anglo japanese",
    "seasian": "chinese southasian anglo", "pacific": "anglo seasian french",
    "african": "anglo french arabic",
}


def name_pools(reg):
    """Pools to draw a person's name from (repeats weight them): mostly the country's."""
    idn = (reg["idn_lang"] or "").split("-")[0]
    pool = LANG_POOL.get(idn) or CC_POOL.get(reg["cc"])
    if pool is None:
        tags = [t.split("-")[0] for t in reg["langs"] if t.split("-")[0] in LANG_POOL]
        pool = LANG_POOL[tags[0]] if tags else "anglo"
    region = reg["region"]
    if region == "AFTLD" and pool in ("anglo", "french", "iberian", "dutch"):
        return ["african"] * 6 + [pool] * 3 + MIX["african"].split()
    if region == "LACTLD" and pool == "iberian":
        pool = "latam"
    elif region == "LACTLD" and pool in ("anglo", "dutch", "french"):
        return [pool] * 5 + ["african"] * 3 + ["latam", "iberian"]
    elif region == "APTLD" and pool == "anglo" and reg["cc"] not in ("AU", "NZ"):
        return ["pacific"] * 5 + ["anglo"] * 3 + ["seasian", "southasian"]
    return [pool] * 10 + MIX[pool].split()


def make_name(rng, reg, used_mail, used_cn):
    while True:
        nm = make_name1(rng, reg)
        if nm["cn"][0] not in used_cn:
            break
    used_cn.add(nm["cn"][0])
    local, i = nm["mail"], 2
    while nm["mail"] in used_mail:
        nm["mail"], i = f"{local}{i}", i + 1
    used_mail.add(nm["mail"])
    return nm


def make_name1(rng, reg):
    pool_name = rng.choice(name_pools(reg))
    pool = POOLS[pool_name]
    female = rng.random() < 0.5
    given = rng.choice(pool["f"] if female else pool["m"])
    family = rng.choice(pool["fam"])
    g_lat, g_nat = given if isinstance(given, tuple) else (given, None)
    f_lat, f_nat = family if isinstance(family, tuple) else (family, None)
    if female and pool.get("fem") == "a":
        f_lat, f_nat = f_lat + "a", f_nat + "а"
    elif female and pool.get("fem") == "pl":
        f_lat = re.sub(r"([sc])ki$", r"\1ka", f_lat)
    eastern = pool.get("eastern", False)
    cn_lat = f"{f_lat} {g_lat}" if eastern else f"{g_lat} {f_lat}"
    if g_nat:
        sep = "" if pool_name in ("chinese", "japanese", "korean") else " "
        display = f"{f_nat}{sep}{g_nat}" if eastern else f"{g_nat}{sep}{f_nat}"
    else:
        display = cn_lat
    mail = f"{ascii_fold(g_lat)}.{ascii_fold(f_lat)}"
    cns = [cn_lat] + ([display] if g_nat else [])
    sns = [f_lat] + ([f_nat] if f_nat else [])
    gns = [g_lat] + ([g_nat] if g_nat else [])
    return dict(cn=cns, sn=sns, givenName=gns, displayName=display, mail=mail)


def hours(rng, reg):
    start = rng.choice(["07:30", "08:00", "08:00", "08:30", "09:00", "09:00"])
    h, m = map(int, start.split(":"))
    end = f"{h + rng.choice([8, 8, 9]):02d}:{m:02d}"
    return f"{WEEK.get(reg['cc'], 'Mo-Fr')} {start}-{end}"


def build(seed):
    rng = random.Random(seed)
    iso = load_iso()
    tlds, idns = load_psl()
    regs = registries(iso, tlds, idns, load_zones(), load_languages())
    missing = set(GAPS) - {r["tld"] for r in regs}
    if missing:
        raise SystemExit(f"deliberate gaps name no registry: {sorted(missing)}")
    phones = Phones(seed + 1)
    entries = []
    stats = dict(registries=0, idn=0, persons=0, groups=0, overdue=0, contacts=0)
    by_region = {}
    for reg in regs:
        tld, cc = reg["tld"], reg["cc"]
        gap = GAPS.get(tld)
        shown = reg["ulabel"] or tld
        org = f"Registry of .{shown} (example)"
        dom = f"nic-{tld}.example"
        # registry
        e = [("objectClass", "top"), ("objectClass", "organization"),
             ("objectClass", "cctldRegistry"), ("o", org), ("associatedDomain", tld)]
        if reg["ulabel"]:
            e.append(("cctldULabel", reg["ulabel"]))
            stats["idn"] += 1
        e += [("c", cc), ("co", reg["country"])]
        if rng.random() < 0.08:
            e.append(("cctldRegistryOperator", f"Registry Services for .{tld} (example)"))
        if reg["region"]:
            e.append(("cctldRegionalOrganization", reg["region"]))
            by_region.setdefault(reg["region"], []).append(reg["team"])
        e += [("cctldContactPoint", reg["team"]),
              ("labeledURI", f"https://{dom}/ Registry web site (fictional)"),
              ("description", f"ccTLD .{shown} of {reg['country']}; fictional sample entry")]
        entries.append((reg["dn"], e))
        stats["registries"] += 1

        # persons (built first so the team can name them)
        n = rng.choices([1, 2, 3], [25, 45, 30])[0]
        used_mail, used_cn = set(), set()
        pdns = [f"uid={uuid.uuid5(UUID_NS, f'{tld}/{i}')},{reg['dn']}" for i in range(n)]
        persons = []
        biz = hours(rng, reg)
        for i, pdn in enumerate(pdns):
            nm = make_name(rng, reg, used_mail, used_cn)
            role = ["security", "technical", rng.choice(["administrative", "management"])][i]
            p = [("objectClass", "top"), ("objectClass", "person"),
                 ("objectClass", "organizationalPerson"), ("objectClass", "inetOrgPerson"),
                 ("objectClass", "cctldContact"), ("uid", pdn.split(",")[0][4:])]
            p += [("cn", v) for v in nm["cn"]] + [("sn", v) for v in nm["sn"]]
            p += [("givenName", v) for v in nm["givenName"]]
            p += [("displayName", nm["displayName"]), ("title", rng.choice(TITLES[role])),
                  ("o", org), ("associatedDomain", tld)]
            if reg["ulabel"]:
                p.append(("cctldULabel", reg["ulabel"]))
            p.append(("cctldContactRole", role))
            if i == 0 and rng.random() < 0.5:
                p.append(("cctldContactRole", "emergency"))
            p += [("cctldContactPriority", str(i + 1)),
                  ("mail", f"{nm['mail']}@{dom}"),
                  ("telephoneNumber", phones.number(cc))]
            if rng.random() < 0.55:
                p.append(("mobile", phones.number(cc, "mobile")))
            if gap == "no-phone":
                p = [(a, v) for a, v in p if a not in PHONE_ATTRS]
            always = i == 0 and rng.random() < 0.4 and gap != "not-247"
            p += [("cctldTimeZone", reg["tz"]), ("cctldBusinessHours", biz),
                  ("cctldAvailable247", "TRUE" if always else "FALSE")]
            langs = list(reg["langs"])
            if "en" not in langs and rng.random() < 0.7:
                langs.append("en")
            p += [("cctldLanguage", t) for t in langs]
            p.append(("preferredLanguage", langs[0]))
            if n > 1:
                p.append(("cctldSubstitute", pdns[(i + 1) % n]))
            if rng.random() < 0.85:
                p.append(("cctldOpenPGPFingerprint", fingerprint(rng)))
                if rng.random() < 0.45:
                    p.append(("cctldKeyURI", f"https://{dom}/keys/{pdn.split(',')[0][4:]}.asc"))
            va, overdue = verification(rng, p)
            p += va
            stats["overdue"] += overdue
            stats["contacts"] += 1
            persons.append((pdn, p))
            stats["persons"] += 1

        # team: the 24/7 contact point
        t = [("objectClass", "top"), ("objectClass", "organizationalRole"),
             ("objectClass", "cctldContact"), ("cn", "incident-response"),
             ("displayName", f"Incident response .{shown}"), ("o", org),
             ("description", f"24/7 incident-response contact point of .{shown} (fictional)"
              if not gap else f"incident-response contact point of .{shown} (fictional; "
              f"deliberately incomplete: {GAP_NOTE[gap]})"),
             ("associatedDomain", tld)]
        if reg["ulabel"]:
            t.append(("cctldULabel", reg["ulabel"]))
        if rng.random() < 0.12:
            t.append(("cctldHostOrganization", f"National CSIRT of {reg['country']} (example)"))
        t += [("cctldContactRole", "security"), ("cctldContactRole", "emergency"),
              ("mail", f"security@{dom}"), ("telephoneNumber", phones.number(cc)),
              ("cctldEmergencyTelephoneNumber", phones.number(cc))]
        if rng.random() < 0.35:
            t.append(("facsimileTelephoneNumber", phones.number(cc)))
        if gap == "no-emergency":
            t = [(a, v) for a, v in t if a != "cctldEmergencyTelephoneNumber"]
        elif gap == "no-phone":
            t = [(a, v) for a, v in t if a not in PHONE_ATTRS]
        r = rng.random()
        if r < 0.25:
            t.append(("cctldMessengerURI", f"xmpp:ir@{dom} IR team chat"))
        elif r < 0.45:
            t.append(("cctldMessengerURI", f"matrix:r/incident-response:{dom} IR team room"))
        elif r < 0.5:
            t += [("cctldMessengerURI", f"xmpp:ir@{dom} IR team chat"),
                  ("cctldMessengerURI", f"sip:ir@{dom} IR voice bridge")]
        if rng.random() < 0.07:
            t.append(("cctldOtherTelecom",
                      rng.choice([f"satellite phone {satellite(rng.randrange(100))}",
                                  "satellite phone (Inmarsat), number on request",
                                  "HF radio, call sign on request"])))
        if gap == "no-phone":           # nor a satellite phone or radio
            t = [(a, v) for a, v in t if a != "cctldOtherTelecom"]
        # The team is the 24/7 contact point. The draw that once made 15 % of the teams office
        # hours only is still made, so that the rest of the data stays the same.
        rng.random()
        t += [("cctldTimeZone", reg["tz"]), ("cctldBusinessHours", biz),
              ("cctldAvailable247", "FALSE" if gap == "not-247" else "TRUE")]
        tlangs = list(reg["langs"]) + ([] if "en" in reg["langs"] else ["en"])
        t += [("cctldLanguage", x) for x in tlangs] + [("preferredLanguage", tlangs[0])]
        t += [("roleOccupant", d) for d in pdns]
        if rng.random() < 0.6:
            t.append(("cctldOpenPGPFingerprint", fingerprint(rng)))
            t.append(("cctldKeyURI", f"https://{dom}/keys/security.asc"))
        va, overdue = verification(rng, t)
        t += va
        stats["overdue"] += overdue
        stats["contacts"] += 1
        entries.append((reg["team"], t))
        entries += persons
        entries.append((f"cn=admins,{reg['dn']}",
                        [("objectClass", "top"), ("objectClass", "groupOfNames"),
                         ("cn", "admins"),
                         ("description", f"who may edit the entries of .{shown}")]
                        + [("member", d) for d in pdns]))
        stats["groups"] += 1

    def group(cn, desc, members):
        entries.append((f"cn={cn},{GROUPS}",
                        [("objectClass", "top"), ("objectClass", "groupOfNames"), ("cn", cn),
                         ("description", desc)] + [("member", m) for m in members]))
        stats["groups"] += 1

    # Members are the registries: ccdir's default policy (group.subtree) lets everyone below a
    # member registry read the directory.
    group("members", "entitled readers: the member registries (and their people)",
          [r["dn"] for r in regs])
    group("directory-admins", "operators of this directory", [ADMIN])
    for region in ["CENTR", "APTLD", "LACTLD", "AFTLD"]:
        if by_region.get(region):
            group(f"region-{region.lower()}", f"contact points of the {region} members",
                  by_region[region])
    return entries, stats


# --------------------------------------------------------------------------- schema check

BUILTIN_ATTRS = {  # the server's system schema (see the head of core.schema)
    "objectclass": dict(names=["objectClass"], sup=None, single=False,
                        syntax="1.3.6.1.4.1.1466.115.121.1.38"),
    "name": dict(names=["name"], sup=None, single=False, syntax="1.3.6.1.4.1.1466.115.121.1.15"),
    "distinguishedname": dict(names=["distinguishedName"], sup=None, single=False,
                              syntax="1.3.6.1.4.1.1466.115.121.1.12"),
    "cn": dict(names=["cn", "commonName"], sup="name", single=False, syntax=None),
    "description": dict(names=["description"], sup=None, single=False,
                        syntax="1.3.6.1.4.1.1466.115.121.1.15"),
    "seealso": dict(names=["seeAlso"], sup="distinguishedName", single=False, syntax=None),
    "userpassword": dict(names=["userPassword"], sup=None, single=False,
                         syntax="1.3.6.1.4.1.1466.115.121.1.40"),
    "uid": dict(names=["uid", "userid"], sup=None, single=False,
                syntax="1.3.6.1.4.1.1466.115.121.1.15"),
    "labeleduri": dict(names=["labeledURI"], sup=None, single=False,
                       syntax="1.3.6.1.4.1.1466.115.121.1.15"),
}
BUILTIN_CLASSES = {"top": dict(sup=[], kind="ABSTRACT", must=["objectClass"], may=[])}


def parse_schema(paths):
    attrs = {k: dict(v) for k, v in BUILTIN_ATTRS.items()}
    classes = {k: dict(v) for k, v in BUILTIN_CLASSES.items()}
    for alias in ("commonname", "userid"):
        attrs[alias] = attrs["cn" if alias == "commonname" else "uid"]

    def names(s):
        m = re.search(r"\bNAME\s+(\(\s*([^)]*)\)|'[^']*')", s)
        return re.findall(r"'([^']*)'", m.group(1))

    def oids(s, kw):
        m = re.search(r"\b" + kw + r"\s+(\(([^)]*)\)|[\w.;-]+)", s)
        if not m:
            return []
        return [x.strip() for x in (m.group(2) or m.group(1)).split("$") if x.strip()]

    for path in paths:
        text = open(path, encoding="utf-8").read()
        text = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        for kind, body in re.findall(r"(?im)^(attributetype|objectclass)\s*(\(.*?\))\s*(?=^\S|\Z)",
                                     text, re.S):
            body = re.sub(r"'[^']*'", lambda m: m.group(0).replace("(", "[").replace(")", "]"),
                          body)
            body = re.sub(r"\s+", " ", body)
            nm = names(body)
            if kind.lower() == "attributetype":
                sup = oids(body, "SUP")
                syn = re.search(r"\bSYNTAX\s+([\d.]+)(\{(\d+)\})?", body)
                d = dict(names=nm, sup=sup[0] if sup else None, single="SINGLE-VALUE" in body,
                         syntax=syn.group(1) if syn else None,
                         maxlen=int(syn.group(3)) if syn and syn.group(3) else None)
                for n in nm:
                    attrs[n.lower()] = d
            else:
                d = dict(sup=oids(body, "SUP"), must=oids(body, "MUST"), may=oids(body, "MAY"),
                         kind=next((k for k in ("ABSTRACT", "STRUCTURAL", "AUXILIARY")
                                    if k in body), "STRUCTURAL"))
                for n in nm:
                    classes[n.lower()] = d
    return attrs, classes


def attr_syntax(attrs, name):
    a = attrs[name.lower()]
    while a.get("syntax") is None and a.get("sup"):
        a = attrs[a["sup"].lower()]
    return a.get("syntax")


PRINTABLE = re.compile(r"^[A-Za-z0-9 '()+,\-./:?=]+$")
SYNTAX_CHECK = {
    "1.3.6.1.4.1.1466.115.121.1.15": lambda v: v != "",
    "1.3.6.1.4.1.1466.115.121.1.26": lambda v: v.isascii(),
    "1.3.6.1.4.1.1466.115.121.1.44": lambda v: bool(PRINTABLE.match(v)),
    "1.3.6.1.4.1.1466.115.121.1.50": lambda v: bool(PRINTABLE.match(v)),
    "1.3.6.1.4.1.1466.115.121.1.22": lambda v: bool(PRINTABLE.match(v)),
    "1.3.6.1.4.1.1466.115.121.1.11": lambda v: bool(re.match(r"^[A-Z]{2}$", v)),
    "1.3.6.1.4.1.1466.115.121.1.27": lambda v: bool(re.match(r"^(0|-?[1-9][0-9]*)$", v)),
    "1.3.6.1.4.1.1466.115.121.1.7": lambda v: v in ("TRUE", "FALSE"),
    "1.3.6.1.4.1.1466.115.121.1.24": lambda v: bool(re.match(r"^\d{14}Z$", v)),
    "1.3.6.1.4.1.1466.115.121.1.12": lambda v: bool(
        re.match(r"^[A-Za-z][\w-]*=[^,=+]+(,[A-Za-z][\w-]*=[^,=+]+)*$", v)),
    "1.3.6.1.4.1.1466.115.121.1.38": lambda v: bool(re.match(r"^[A-Za-z][\w-]*$", v)),
}


def validate(entries, schema_dir):
    files = [os.path.join(schema_dir, f) for f in
             ("core.schema", "cosine.schema", "inetorgperson.schema", "cctld-ir.schema")]
    attrs, classes = parse_schema(files)
    errors = []
    dns = set()
    for dn, avs in entries:
        key = dn.lower()
        if key in dns:
            errors.append(f"{dn}: duplicate DN")
        parent = key.split(",", 1)[1]
        if parent not in dns and parent not in SERVER_ENTRIES:
            errors.append(f"{dn}: parent not before it")
        if key in SERVER_ENTRIES:
            errors.append(f"{dn}: server-created entry in the sample")
        dns.add(key)
    for dn, avs in entries:
        ocs = [v for a, v in avs if a == "objectClass"]
        must, may, todo, seen = set(), set(), list(ocs), set()
        while todo:
            oc = todo.pop().lower()
            if oc in seen:
                continue
            seen.add(oc)
            if oc not in classes:
                errors.append(f"{dn}: unknown object class {oc}")
                continue
            c = classes[oc]
            must |= {attrs.get(x.lower(), dict(names=[x]))["names"][0].lower() for x in c["must"]}
            may |= {attrs.get(x.lower(), dict(names=[x]))["names"][0].lower() for x in c["may"]}
            todo += c["sup"]
        if sum(classes.get(o.lower(), {}).get("kind") == "STRUCTURAL" for o in ocs) < 1:
            errors.append(f"{dn}: no structural class")
        values = {}
        for a, v in avs:
            if a.lower() not in attrs:
                errors.append(f"{dn}: unknown attribute {a}")
                continue
            canon = attrs[a.lower()]["names"][0].lower()
            values.setdefault(canon, []).append(v)
            if canon not in must | may:
                errors.append(f"{dn}: {a} not allowed by {ocs}")
            syn = attr_syntax(attrs, a)
            check = SYNTAX_CHECK.get(syn)
            if check is None:
                errors.append(f"{dn}: {a}: no check for syntax {syn}")
            elif not check(v):
                errors.append(f"{dn}: {a}: {v!r} not valid for syntax {syn}")
            maxlen = attrs[a.lower()].get("maxlen")
            if maxlen and len(v) > maxlen:
                errors.append(f"{dn}: {a}: longer than {maxlen}")
            if syn == "1.3.6.1.4.1.1466.115.121.1.12" and a != "cctldVerifiedBy" \
                    and v.lower() not in dns and v.lower() not in SERVER_ENTRIES:
                errors.append(f"{dn}: {a}: {v} names no entry")
        for a in must:
            if a not in values:
                errors.append(f"{dn}: MUST {a} missing")
        for a, vs in values.items():
            if attrs[a]["single"] and len(vs) != 1:
                errors.append(f"{dn}: single-valued {a} has {len(vs)} values")
            if len(set(x.lower() for x in vs)) != len(vs):
                errors.append(f"{dn}: {a} has duplicate values")
        rdn_a, rdn_v = dn.split(",", 1)[0].split("=", 1)
        if rdn_v.lower() not in [x.lower() for x in values.get(
                attrs[rdn_a.lower()]["names"][0].lower(), [])]:
            errors.append(f"{dn}: RDN value not in entry")
    if errors:
        for e in errors[:50]:
            print("INVALID:", e, file=sys.stderr)
        raise SystemExit(f"{len(errors)} schema violation(s)")


# --------------------------------------------------------------------------- completeness

GAP_RULES = {"not-247": ["R1"], "no-emergency": ["R1"], "no-phone": ["R1", "R2"]}


def incomplete(entries):
    """{ccTLD: rules broken} by the registries of `entries`, as `ccdir check` sees them:
    R1, no contact below the registry with cctldAvailable247 TRUE and an emergency number;
    R2, no contact below it with a telephone, emergency, mobile or fax number."""
    regs = {}
    for dn, avs in entries:
        if ("objectClass", "cctldRegistry") in avs:
            regs[dn.lower()] = dict(tld=dict(avs)["associatedDomain"], r1=False, r2=False)
    for dn, avs in entries:
        if ("objectClass", "cctldContact") not in avs:
            continue
        r = regs[dn.lower().split(",", 1)[1]]
        names = {a for a, _ in avs}
        r["r1"] |= ("cctldAvailable247", "TRUE") in avs and "cctldEmergencyTelephoneNumber" in names
        r["r2"] |= bool(names.intersection(PHONE_ATTRS))
    return {r["tld"]: [k for k in ("R1", "R2") if not r[k.lower()]]
            for r in regs.values() if not (r["r1"] and r["r2"])}


# --------------------------------------------------------------------------- LDIF

def is_safe(v):
    b = v.encode("utf-8")
    if not b:
        return True
    if b[0] in b" :<" or b[-1:] == b" ":
        return False
    return all(0 < c < 0x80 and c not in (10, 13) for c in b)


def fold(line, width=76):
    out = [line[:width]]
    rest = line[width:]
    while rest:
        out.append(" " + rest[:width - 1])
        rest = rest[width - 1:]
    return out


def attr_line(a, v):
    if is_safe(v):
        return f"{a}: {v}"
    return f"{a}:: {base64.b64encode(v.encode('utf-8')).decode('ascii')}"


HEADER = """\
# ccdir sample directory: ccTLD incident-response contacts.
#
# EVERY CONTACT IN THIS FILE IS FICTIONAL. People, mail addresses (RFC 2606
# .example domains), keys and verification records are invented; only the
# ccTLD strings, countries, time zones and languages are real. The phone
# numbers are valid numbers taken from no person or registry: ranges
# reserved for fiction (NANP 555-01xx, UK 020 7946 0xxx, AU 0491 570 xxx,
# FR 01 99 00 00 xx) or, elsewhere, libphonenumber's published example
# numbers with the last two digits varied. Outside the reserved ranges a
# real line may have the same number: do not dial them.
#
# Every registry's incident-response team is available 24/7 and has an
# emergency number, except these, left incomplete on purpose so that
# `ccdir check` reports something:
{gaps}
#
# Generated by tools/sample/gen_sample.py (seed {seed}) from the Debian
# packages iso-codes, publicsuffix, tzdata and unicode-cldr-core. Do not
# edit by hand: regenerate it (see tools/sample/README.md).
#
# The server creates {suffix}, cn=admin, ou=registries,
# ou=groups, cn=PGPServerInfo and ou=GnuPG Keys on first start; this file
# holds the entries below them.
"""


def render(entries, seed):
    lines = ["version: 1"]
    gaps = "\n".join(f"#   .{tld}: {GAP_NOTE[kind]}" for tld, kind in GAPS.items())
    lines += HEADER.format(seed=seed, suffix=SUFFIX, gaps=gaps).splitlines()
    for dn, avs in entries:
        lines.append("")
        lines += fold(attr_line("dn", dn))
        for a, v in avs:
            assert len(a) + 2 < 76
            lines += fold(attr_line(a, v))
    for ln in lines:
        assert len(ln.encode("utf-8")) <= 76 and ln.isascii(), ln
    return "\n".join(lines) + "\n"


def parse_ldif(text):
    """Minimal RFC 2849 reader, to check what render() wrote round-trips."""
    unfolded = []
    for ln in text.split("\n"):
        if ln.startswith(" ") and unfolded:
            unfolded[-1] += ln[1:]
        else:
            unfolded.append(ln)
    records, cur = [], []
    for ln in unfolded + [""]:
        if ln.startswith("#"):
            continue
        if ln == "":
            if cur:
                records.append(cur)
            cur = []
            continue
        a, sep, v = ln.partition(":")
        if v.startswith(":"):
            v = base64.b64decode(v[1:].strip()).decode("utf-8")
        else:
            v = v[1:] if v.startswith(" ") else v
        cur.append((a, v))
    assert records[0] == [("version", "1")], records[0]
    return [(r[0][1], r[1:]) for r in records[1:] if r[0][0] == "dn"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", default=os.path.join(ROOT, "ldif", "sample.ldif"))
    ap.add_argument("--schema-dir", default=os.path.join(ROOT, "schema"))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--no-validate", action="store_true")
    args = ap.parse_args()

    entries, stats = build(args.seed)
    if not args.no_validate:
        validate(entries, args.schema_dir)
    gaps = incomplete(entries)
    if gaps != {tld: GAP_RULES[kind] for tld, kind in GAPS.items()}:
        raise SystemExit(f"incomplete registries {gaps}, expected only the deliberate gaps {GAPS}")
    text = render(entries, args.seed)
    if parse_ldif(text) != entries:
        raise SystemExit("LDIF round trip failed")
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    print(f"wrote {args.output}: {len(entries)} entries, "
          f"sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}")
    print(f"registries {stats['registries']} (IDN {stats['idn']}), "
          f"persons {stats['persons']}, groups {stats['groups']}, "
          f"overdue contacts {stats['overdue']} of {stats['contacts']} "
          f"(cctldVerificationDue before {gtime(TODAY)})"
          + ("" if args.no_validate else ", schema check passed"))
    print("complete but for the deliberate gaps: "
          + ", ".join(f".{tld} {kind} (breaks {'+'.join(gaps[tld])})" for tld, kind in GAPS.items()))


if __name__ == "__main__":
    main()
