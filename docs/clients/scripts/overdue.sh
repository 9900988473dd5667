#!/bin/sh
# Contacts whose verification is due or overdue now (or before the date given: 20270101000000Z).
# Needs LDAP_URI, BIND_DN, BIND_PW_FILE (and LDAPTLS_CACERT for ldaps:// or StartTLS).
set -eu
due=${1:-$(date -u +%Y%m%d%H%M%SZ)}
ldapsearch -H "$LDAP_URI" -x -D "$BIND_DN" -y "$BIND_PW_FILE" -LLL -o ldif-wrap=no \
  -b "ou=registries,${SUFFIX:-dc=cctld-ir,dc=example}" \
  "(&(objectClass=cctldContact)(cctldVerificationDue<=$due))" \
  associatedDomain cn mail cctldVerificationDue cctldLastVerified cctldVerificationMethod \
  cctldVerificationStatus cctldVerificationNextMethod
