#!/bin/sh
# Contacts in the given IANA time zones that can be reached now: available 24/7, or within their
# business hours in their own time zone.  ./open-now.sh Asia/Tokyo Asia/Seoul Asia/Jayapura
# Needs LDAP_URI, BIND_DN, BIND_PW_FILE (and LDAPTLS_CACERT for ldaps:// or StartTLS).
# NOW=<seconds since 1970> asks about another moment (default: now).
# Business hours are read as in the schema: "Mo-Fr 08:00-17:00", several ranges separated by
# ";" or "," ("Mo-Th 08:00-16:00; Fr 08:00-13:00"), day ranges may wrap ("Su-Th").
set -eu
[ $# -gt 0 ] || { echo "usage: open-now.sh ZONE..." >&2; exit 2; }
f=""
for z in "$@"; do f="$f(cctldTimeZone=$z)"; done
now="${NOW:-$(date +%s)}"
case "$now" in ''|*[!0-9]*) echo "NOW must be seconds since 1970" >&2; exit 2 ;; esac
ldapsearch -H "$LDAP_URI" -x -D "$BIND_DN" -y "$BIND_PW_FILE" -LLL -o ldif-wrap=no \
  -b "ou=registries,${SUFFIX:-dc=cctld-ir,dc=example}" \
  "(&(objectClass=cctldContact)(|$f))" \
  associatedDomain cn displayName telephoneNumber cctldEmergencyTelephoneNumber mail \
  cctldTimeZone cctldBusinessHours cctldAvailable247 |
awk -v now="$now" '
function day(d) { return index("MoTuWeThFrSaSu", d) ? (index("MoTuWeThFrSaSu", d) + 1) / 2 : 0 }
function minutes(t,  p) { split(t, p, ":"); return p[1] * 60 + p[2] }
# Is local weekday wd (1 = Monday) at minute m within one "Days HH:MM-HH:MM" range?
function within(r, wd, m,   w, d, a, b, t, ok) {
  gsub(/^ +| +$/, "", r)
  if (split(r, w, " ") != 2) return 0
  if (split(w[1], d, "-") == 2) { a = day(d[1]); b = day(d[2]) } else { a = day(w[1]); b = a }
  if (!a || !b) return 0
  ok = (a <= b) ? (wd >= a && wd <= b) : (wd >= a || wd <= b)
  if (!ok || split(w[2], t, "-") != 2) return 0
  return m >= minutes(t[1]) && m < minutes(t[2])
}
function flush(   cmd, wd, hm, n, r, i, open) {
  if (rec == "") return
  open = (always == "TRUE")
  # Time zone names go into a command line: accept only IANA-style names.
  if (!open && tz ~ /^[A-Za-z0-9_+\/-]+$/ && hours != "") {
    cmd = "TZ=" tz " date -d @" now " \"+%u %H:%M\""
    cmd | getline local; close(cmd)
    split(local, p, " "); wd = p[1]; hm = minutes(p[2])
    n = split(hours, r, /[;,]/)
    for (i = 1; i <= n; i++) if (within(r[i], wd, hm)) open = 1
  }
  if (open) printf "%s# reachable now (%s)\n\n", rec, (always == "TRUE" ? "24/7" : "business hours")
  rec = ""; tz = ""; hours = ""; always = ""
}
/^$/ { flush(); next }
{ rec = rec $0 "\n" }
/^cctldTimeZone: / { tz = substr($0, 16) }
/^cctldBusinessHours: / { hours = (hours == "" ? "" : hours ";") substr($0, 21) }
/^cctldAvailable247: / { always = substr($0, 20) }
END { flush() }
'
