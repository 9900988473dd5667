#!/bin/sh
# The 24/7 contact point of a ccTLD: ./contact-247.sh br
# With when its data was last verified, how (status) and when it is due again: a due date in
# the past means the numbers may be stale.
# Needs LDAP_URI, BIND_DN, BIND_PW_FILE (and LDAPTLS_CACERT for ldaps:// or StartTLS).
set -eu
tld=${1:?usage: contact-247.sh TLD}
ldapsearch -H "$LDAP_URI" -x -D "$BIND_DN" -y "$BIND_PW_FILE" -LLL -o ldif-wrap=no \
  -b "ou=registries,${SUFFIX:-dc=cctld-ir,dc=example}" \
  "(&(objectClass=organizationalRole)(objectClass=cctldContact)(associatedDomain=$tld))" \
  cn telephoneNumber cctldEmergencyTelephoneNumber facsimileTelephoneNumber mail \
  cctldMessengerURI cctldOtherTelecom cctldTimeZone cctldBusinessHours cctldAvailable247 cctldLanguage \
  cctldVerificationStatus cctldLastVerified cctldVerificationDue
