//! The subschema subentry as strict schema parsers read it: python-ldap's `ldap.schema` module
//! (Debian python3-ldap), which Apache Directory Studio-style tools and scripts rely on.

use crate::harness::*;
use std::process::Command;

const SCRIPT: &str = r#"
import sys, ldap, ldap.schema
url = sys.argv[1]
conn = ldap.initialize(url)
conn.simple_bind_s("", "")
subschemasubentry_dn, schema = ldap.schema.urlfetch(url)
assert subschemasubentry_dn == "cn=Subschema", subschemasubentry_dn
res = conn.search_s("cn=Subschema", ldap.SCOPE_BASE, "(objectClass=subschema)",
                    ["attributeTypes", "objectClasses", "ldapSyntaxes", "matchingRules", "matchingRuleUse"])
raw = res[0][1]
# Strict parse: every description must parse, and names must be unique.
ss = ldap.schema.SubSchema(raw, check_uniqueness=2)
counts = {k: len(raw.get(k, [])) for k in ("attributeTypes", "objectClasses", "ldapSyntaxes", "matchingRules", "matchingRuleUse")}
at = ss.get_obj(ldap.schema.AttributeType, "cctldTimeZone")
assert at is not None and at.single_value, "cctldTimeZone"
oc = ss.get_obj(ldap.schema.ObjectClass, "cctldContact")
assert oc is not None and oc.kind == 2 and "associatedDomain" in oc.must, (oc.kind, oc.must)
must, may = ss.attribute_types(["inetOrgPerson", "cctldContact"])
names = {a.names[0] for a in list(must.values()) + list(may.values())}
for n in ("cn", "sn", "associatedDomain", "cctldTimeZone", "mail", "telephoneNumber"):
    assert n in names, n
for oid in ss.listall(ldap.schema.AttributeType):
    a = ss.get_obj(ldap.schema.AttributeType, oid)
    if a.syntax is None and not a.sup:
        raise SystemExit("attribute without syntax or SUP: %s" % a.names)
print("OK", counts)
"#;

#[test]
fn python_ldap_parses_the_subschema_strictly() {
    let s = TestServer::start();
    let out = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT, &s.ldap_url()])
        .output()
        .expect("python3 (install Debian python3-ldap)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python-ldap failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.starts_with("OK"), "{stdout}");
}
