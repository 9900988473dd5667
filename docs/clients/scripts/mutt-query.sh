#!/bin/sh
# mutt's query_command for ccdir: set query_command = "sh ~/bin/mutt-query.sh '%s'"
# Finds contacts whose name, display name or mail contains the typed text, or whose ccTLD is it,
# and prints them the way mutt expects: a first line for the status bar, then one line per
# address: mail <TAB> name <TAB> organisation, role and phone.
# Needs LDAP_URI, BIND_DN, BIND_PW_FILE (and LDAPTLS_CACERT for ldaps:// or StartTLS).
set -eu
q=${1:?usage: mutt-query.sh TEXT}
# RFC 4515: escape the characters that have a meaning in a filter.
esc=$(printf '%s' "$q" | sed -e 's/\\/\\5c/g' -e 's/\*/\\2a/g' -e 's/(/\\28/g' -e 's/)/\\29/g')
filter="(&(objectClass=cctldContact)(mail=*)(|(cn=*$esc*)(displayName=*$esc*)(mail=*$esc*)(associatedDomain=$esc)))"
ldif=$(ldapsearch -H "$LDAP_URI" -x -D "$BIND_DN" -y "$BIND_PW_FILE" -LLL -o ldif-wrap=no -z "${MAX:-100}" \
  -b "ou=registries,${SUFFIX:-dc=cctld-ir,dc=example}" "$filter" \
  displayName cn mail o title telephoneNumber) || [ $? -eq 4 ]   # 4: more than MAX matches
echo "ccdir: searching for '$q'"
# Values that are not plain ASCII come base64-encoded ("attr:: ..."): decode them.
printf '%s\n\n' "$ldif" | while IFS= read -r line; do
  case $line in
    *::\ *) a=${line%%::*}; v=$(printf '%s' "${line#*:: }" | base64 -d) ;;
    *:\ *) a=${line%%:*}; v=${line#*: } ;;
    '') a=; v= ;;
    *) continue ;;
  esac
  printf '%s\t%s\n' "$a" "$v"
done | awk -F '\t' '
  function flush(   i, name, other) {
    name = disp != "" ? disp : cn
    other = o
    if (title != "") other = other ", " title
    if (tel != "") other = other ", " tel
    for (i = 1; i <= n; i++) printf "%s\t%s\t%s\n", mail[i], name, other
    n = 0; disp = ""; cn = ""; o = ""; title = ""; tel = ""
  }
  $1 == "" { flush(); next }
  $1 == "mail" { mail[++n] = $2 }
  $1 == "displayName" && disp == "" { disp = $2 }
  $1 == "cn" && cn == "" { cn = $2 }
  $1 == "o" && o == "" { o = $2 }
  $1 == "title" && title == "" { title = $2 }
  $1 == "telephoneNumber" && tel == "" { tel = $2 }
'
