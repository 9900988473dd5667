//! Mail-client address books against ccdir (docs/clients/<client>.md). Each test replays one
//! client's request sequence as its source or documentation shows it (transport and bind, root
//! DSE and subschema reads, the filter it builds from what the user typed, the attributes, size
//! limit, scope and controls it sends) and checks what the client would then display, through the
//! client's own mapping of attributes to its fields. The source is cited above each test.
//!
//! The clients that are shell or Perl programs around libldap or Net::LDAP (mutt's query
//! scripts, lbdb) are run for real; Evolution's requests go through OpenLDAP's `ldapsearch`,
//! the same libldap Evolution links; the others are reproduced with the `ldap3` crate.
//!
//! Every test uses the sample directory with the server's default TLS policy (passwords only over
//! TLS). The reader is a person of another registry, the way an incident responder at .ac looks
//! up the contacts of .br.

mod apple_contacts;
mod evolution;
mod mutt;
mod outlook;
mod roundcube;
mod thunderbird;

use crate::harness::*;
use ldap3::controls::RawControl;
use ldap3::{LdapConn, LdapResult, Mod, Scope, SearchEntry, SearchOptions};
use std::collections::HashSet;

pub const REGISTRIES: &str = "ou=registries,dc=cctld-ir,dc=example";
/// Fatoumata Adeyemi, security manager of .ac in the sample directory: the reader.
pub const READER: &str =
    "uid=d6ed06d8-df4d-544e-a847-1c45ecc2332c,associatedDomain=ac,ou=registries,dc=cctld-ir,dc=example";
pub const READER_PW: &str = "responder-pw-1";
/// The 24/7 incident-response team of .br.
pub const BR_TEAM: &str =
    "cn=incident-response,associatedDomain=br,ou=registries,dc=cctld-ir,dc=example";
/// Marta Ferreira, information security manager of .br.
pub const BR_PERSON: &str =
    "uid=50ef9fd9-0d1f-5af4-aaf2-98f8ee70d942,associatedDomain=br,ou=registries,dc=cctld-ir,dc=example";

/// Teams and people in the sample directory (entries of class cctldContact; all have mail and
/// displayName).
pub fn sample_contacts() -> i64 {
    let ldif = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ldif/sample.ldif"))
        .expect("ldif/sample.ldif");
    ldif.lines()
        .filter(|l| *l == "objectClass: cctldContact")
        .count() as i64
}

pub const OID_SORT_REQUEST: &str = "1.2.840.113556.1.4.473";
pub const OID_SORT_RESPONSE: &str = "1.2.840.113556.1.4.474";
pub const OID_VLV_REQUEST: &str = "2.16.840.1.113730.3.4.9";
pub const OID_VLV_RESPONSE: &str = "2.16.840.1.113730.3.4.10";

fn set<'a>(v: &[&'a str]) -> HashSet<&'a str> {
    v.iter().copied().collect()
}

/// A server with the sample directory and the default password policy (TLS required). The
/// reader gets a password; .br's admins complete the team's and Marta's entries with fax and
/// postal address (the sample has none), so that every field a client shows has a value.
pub fn directory() -> TestServer {
    directory_with(|_| {})
}

/// [`directory`] with a changed configuration.
pub fn directory_with(f: impl FnOnce(&mut ccdir::service::config::Config)) -> TestServer {
    let s = TestServer::start_with(|c| {
        c.load_sample = true;
        c.password.require_tls = true;
        f(c);
    });
    let mut admin = s.conn_ldaps();
    admin
        .simple_bind(ADMIN, &s.admin_password())
        .expect("bind")
        .success()
        .expect("admin bind over LDAPS");
    let mods = |m: Vec<Mod<&str>>, dn: &str, c: &mut LdapConn| {
        c.modify(dn, m).expect("modify").success().expect("modify");
    };
    mods(
        vec![Mod::Replace("userPassword", set(&[READER_PW]))],
        READER,
        &mut admin,
    );
    for dn in [BR_TEAM, BR_PERSON] {
        mods(
            vec![
                Mod::Replace("facsimileTelephoneNumber", set(&["+55 11 5555 0177"])),
                Mod::Replace("street", set(&["Rua Exemplo 100"])),
                Mod::Replace("l", set(&["São Paulo"])),
                Mod::Replace("st", set(&["SP"])),
                Mod::Replace("postalCode", set(&["04500-000"])),
                Mod::Replace(
                    "postalAddress",
                    set(&[
                        "Registry of .br (example)$Rua Exemplo 100$04500-000 São Paulo SP$Brazil",
                    ]),
                ),
                Mod::Replace("c", set(&["BR"])),
            ],
            dn,
            &mut admin,
        );
    }
    s
}

/// LDAPS on the server's ldaps listener, bound as the reader (the "use SSL" setting of the clients
/// that have no StartTLS).
pub fn reader_ldaps(s: &TestServer) -> LdapConn {
    let mut c = s.conn_ldaps();
    c.simple_bind(READER, READER_PW)
        .expect("bind")
        .success()
        .expect("reader bind over LDAPS");
    c
}

/// StartTLS on the ldap listener, bound as the reader.
pub fn reader_starttls(s: &TestServer) -> LdapConn {
    let mut c = s.conn_starttls();
    c.simple_bind(READER, READER_PW)
        .expect("bind")
        .success()
        .expect("reader bind after StartTLS");
    c
}

/// What a search returned: the result (code, controls) and the entries.
pub struct Found {
    pub result: LdapResult,
    pub entries: Vec<SearchEntry>,
}

impl Found {
    pub fn rc(&self) -> u32 {
        self.result.rc
    }

    pub fn entry(&self, dn: &str) -> &SearchEntry {
        self.entries
            .iter()
            .find(|e| e.dn.eq_ignore_ascii_case(dn))
            .unwrap_or_else(|| panic!("{dn} not found in {:?}", self.dns()))
    }

    pub fn has(&self, dn: &str) -> bool {
        self.entries.iter().any(|e| e.dn.eq_ignore_ascii_case(dn))
    }

    pub fn dns(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.dn.to_lowercase()).collect()
    }

    /// The response control with this OID, if the server sent it.
    pub fn control(&self, oid: &str) -> Option<&RawControl> {
        self.result
            .ctrls
            .iter()
            .map(|c| &c.1)
            .find(|c| c.ctype == oid)
    }
}

/// One search request as a client sends it.
pub struct Request<'a> {
    pub base: &'a str,
    pub scope: Scope,
    pub filter: &'a str,
    pub attrs: &'a [&'a str],
    pub size_limit: i32,
    pub time_limit: i32,
    pub controls: Vec<RawControl>,
}

pub fn search(c: &mut LdapConn, r: Request<'_>) -> Found {
    let mut opts = SearchOptions::new().sizelimit(r.size_limit);
    if r.time_limit > 0 {
        opts = opts.timelimit(r.time_limit);
    }
    let res = c
        .with_search_options(opts)
        .with_controls(r.controls)
        .search(r.base, r.scope, r.filter, r.attrs.to_vec())
        .unwrap_or_else(|e| panic!("search {}: {e}", r.filter));
    Found {
        result: res.1,
        entries: res.0.into_iter().map(SearchEntry::construct).collect(),
    }
}

/// The values of an attribute, whatever case the server used for its name.
pub fn values<'a>(e: &'a SearchEntry, attr: &str) -> Vec<&'a str> {
    e.attrs
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(attr))
        .flat_map(|(_, v)| v.iter().map(String::as_str))
        .collect()
}

/// A client's field mapping: the first of the listed attributes the entry has, and its first
/// value (Thunderbird, Evolution, Roundcube, Outlook and Apple Contacts all take the first value).
pub fn field<'a>(e: &'a SearchEntry, attrs: &str) -> Option<&'a str> {
    attrs
        .split(',')
        .find_map(|a| values(e, a.trim()).first().copied())
}

/// The root DSE as any client reads it: base scope, empty DN, `(objectClass=*)`.
pub fn root_dse(c: &mut LdapConn, attrs: &[&str]) -> SearchEntry {
    let f = search(
        c,
        Request {
            base: "",
            scope: Scope::Base,
            filter: "(objectClass=*)",
            attrs,
            size_limit: 0,
            time_limit: 0,
            controls: vec![],
        },
    );
    assert_eq!(f.rc(), 0, "root DSE");
    f.entries.into_iter().next().expect("the root DSE")
}

// --- BER for the sort and VLV controls (the `ldap3` crate has no types for them) ---------------

fn ber_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        let mut v = vec![0x80 | bytes.len() as u8];
        v.extend(bytes);
        v
    }
}

pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(ber_len(body.len()));
    v.extend_from_slice(body);
    v
}

pub fn ber_int(tag: u8, n: i64) -> Vec<u8> {
    let mut bytes = n.to_be_bytes().to_vec();
    while bytes.len() > 1
        && ((bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xff && bytes[1] & 0x80 != 0))
    {
        bytes.remove(0);
    }
    tlv(tag, &bytes)
}

/// Server-side sort request (RFC 2891): one key per attribute, ascending.
pub fn sort_control(keys: &[&str], critical: bool) -> RawControl {
    let mut list = Vec::new();
    for k in keys {
        list.extend(tlv(0x30, &tlv(0x04, k.as_bytes())));
    }
    RawControl {
        ctype: OID_SORT_REQUEST.into(),
        crit: critical,
        val: Some(tlv(0x30, &list)),
    }
}

/// The target of a VLV request (draft-ietf-ldapext-ldapv3-vlv-09).
pub enum VlvTarget<'a> {
    ByOffset { offset: i64, content_count: i64 },
    GreaterThanOrEqual(&'a str),
}

pub fn vlv_control(
    before: i64,
    after: i64,
    target: VlvTarget<'_>,
    context: Option<&[u8]>,
) -> RawControl {
    let mut body = ber_int(0x02, before);
    body.extend(ber_int(0x02, after));
    match target {
        VlvTarget::ByOffset {
            offset,
            content_count,
        } => {
            let mut t = ber_int(0x02, offset);
            t.extend(ber_int(0x02, content_count));
            body.extend(tlv(0xa0, &t));
        }
        VlvTarget::GreaterThanOrEqual(v) => body.extend(tlv(0x81, v.as_bytes())),
    }
    if let Some(ctx) = context {
        body.extend(tlv(0x04, ctx));
    }
    RawControl {
        ctype: OID_VLV_REQUEST.into(),
        crit: true,
        val: Some(tlv(0x30, &body)),
    }
}

/// Read one TLV: (tag, body, rest).
fn read_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, start) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let body = b.get(start..start + len)?;
    Some((tag, body, &b[start + len..]))
}

fn int_of(body: &[u8]) -> i64 {
    let mut v: i64 = if body.first().is_some_and(|x| x & 0x80 != 0) {
        -1
    } else {
        0
    };
    for x in body {
        v = (v << 8) | *x as i64;
    }
    v
}

/// A VLV response: (targetPosition, contentCount, result code, contextID).
pub fn parse_vlv_response(c: &RawControl) -> (i64, i64, i64, Option<Vec<u8>>) {
    let val = c.val.as_deref().expect("VLV response value");
    let (_, seq, _) = read_tlv(val).expect("VLV response SEQUENCE");
    let (_, pos, rest) = read_tlv(seq).expect("targetPosition");
    let (_, count, rest) = read_tlv(rest).expect("contentCount");
    let (_, code, rest) = read_tlv(rest).expect("virtualListViewResult");
    let ctx = read_tlv(rest).map(|(_, b, _)| b.to_vec());
    (int_of(pos), int_of(count), int_of(code), ctx)
}

/// A sort response: its sortResult code.
pub fn parse_sort_response(c: &RawControl) -> i64 {
    let val = c.val.as_deref().expect("sort response value");
    let (_, seq, _) = read_tlv(val).expect("sort response SEQUENCE");
    let (_, code, _) = read_tlv(seq).expect("sortResult");
    int_of(code)
}

/// The DNs an OpenLDAP tool printed (`-LLL` LDIF), lower-cased.
pub fn ldif_dns(ldif: &str) -> Vec<String> {
    ldif.lines()
        .filter_map(|l| l.strip_prefix("dn: "))
        .map(|d| d.trim().to_ascii_lowercase())
        .collect()
}

/// The LDAPS URL with the address the generated certificate names (libldap replaces `localhost`
/// by the host name before checking the certificate, see tests/it/cli_tools.rs).
pub fn ldaps_ip_url(s: &TestServer) -> String {
    format!("ldaps://127.0.0.1:{}", s.server().ldaps_addrs[0].port())
}

pub fn ldap_ip_url(s: &TestServer) -> String {
    format!("ldap://127.0.0.1:{}", s.ldap_addr().port())
}

#[test]
fn vlv_and_sort_controls_encode_as_openldap_does() {
    // `ldapsearch -E '!sss=cn' -E '!vlv=0/49/1/0'` sends these bytes (captured with -d 1).
    assert_eq!(
        sort_control(&["cn"], true).val.unwrap(),
        vec![0x30, 0x06, 0x30, 0x04, 0x04, 0x02, b'c', b'n']
    );
    let v = vlv_control(
        0,
        49,
        VlvTarget::ByOffset {
            offset: 1,
            content_count: 0,
        },
        None,
    );
    assert_eq!(
        v.val.unwrap(),
        vec![
            0x30, 0x0e, 0x02, 0x01, 0x00, 0x02, 0x01, 0x31, 0xa0, 0x06, 0x02, 0x01, 0x01, 0x02,
            0x01, 0x00
        ]
    );
    assert_eq!(ber_int(0x02, 200), vec![0x02, 0x02, 0x00, 0xc8]);
    assert_eq!(ber_int(0x02, -1), vec![0x02, 0x01, 0xff]);
    let resp = RawControl {
        ctype: OID_VLV_RESPONSE.into(),
        crit: false,
        val: Some(vec![
            0x30, 0x0a, 0x02, 0x01, 0x05, 0x02, 0x02, 0x01, 0x2c, 0x0a, 0x01, 0x00,
        ]),
    };
    assert_eq!(parse_vlv_response(&resp), (5, 300, 0, None));
}
