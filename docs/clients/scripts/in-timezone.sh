#!/bin/sh
# Contacts in the given IANA time zones: ./in-timezone.sh Asia/Tokyo Asia/Seoul
# Needs LDAP_URI, BIND_DN, BIND_PW_FILE (and LDAPTLS_CACERT for ldaps:// or StartTLS).
set -eu
[ $# -gt 0 ] || { echo "usage: in-timezone.sh ZONE..." >&2; exit 2; }
f=""
for z in "$@"; do f="$f(cctldTimeZone=$z)"; done
ldapsearch -H "$LDAP_URI" -x -D "$BIND_DN" -y "$BIND_PW_FILE" -LLL -o ldif-wrap=no \
  -b "ou=registries,${SUFFIX:-dc=cctld-ir,dc=example}" \
  "(&(objectClass=cctldContact)(|$f))" \
  associatedDomain cn telephoneNumber cctldTimeZone cctldBusinessHours cctldAvailable247
