//! Wire-level behaviour with hand-made PDUs: malformed input, limits, abandon, StartTLS rules.

use crate::harness::*;
use bytes::BytesMut;
use ldap3_proto::proto::*;
use ldap3_proto::LdapCodec;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, Encoder};

struct Raw {
    s: TcpStream,
    buf: BytesMut,
    codec: LdapCodec,
}

impl Raw {
    fn connect(ts: &TestServer) -> Raw {
        let s = TcpStream::connect(ts.ldap_addr()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Raw {
            s,
            buf: BytesMut::new(),
            codec: LdapCodec::new(Some(64 * 1024 * 1024), None),
        }
    }

    fn send(&mut self, msg: LdapMsg) {
        let mut b = BytesMut::new();
        self.codec.encode(msg, &mut b).expect("encode");
        self.s.write_all(&b).expect("write");
    }

    fn send_bytes(&mut self, b: &[u8]) {
        let _ = self.s.write_all(b);
    }

    /// The next message, or None when the server closed the connection.
    fn recv(&mut self) -> Option<LdapMsg> {
        loop {
            if let Ok(Some(m)) = self.codec.decode(&mut self.buf) {
                return Some(m);
            }
            let mut tmp = [0u8; 65536];
            match self.s.read(&mut tmp) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
            }
        }
    }

    fn bind_admin(&mut self, ts: &TestServer) {
        self.send(LdapMsg::new(
            1,
            LdapOp::BindRequest(LdapBindRequest {
                version: 3,
                dn: ADMIN.into(),
                cred: LdapBindCred::Simple(ts.admin_password()),
            }),
        ));
        match self.recv().map(|m| m.op) {
            Some(LdapOp::BindResponse(r)) => assert_eq!(r.res.code, LdapResultCode::Success),
            other => panic!("bind: {other:?}"),
        }
    }
}

/// Entries large enough that a search over them fills the socket buffers and the response queue
/// when the client does not read, so the search is still running when the next request arrives.
fn add_big(ts: &TestServer, n: usize, prefix: &str) {
    let mut admin = ts.admin();
    let blob = "z".repeat(32 * 1024);
    for i in 0..n {
        add(
            &mut admin,
            &format!("cn={prefix}{i:03},{SUFFIX}"),
            &[
                ("objectClass", &["organizationalRole"]),
                ("cn", &[&format!("{prefix}{i:03}")]),
                ("description", &[&blob]),
            ],
        );
    }
}

fn search_req(base: &str, filter: LdapFilter) -> LdapOp {
    LdapOp::SearchRequest(LdapSearchRequest {
        base: base.into(),
        scope: LdapSearchScope::Subtree,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter,
        attrs: vec![],
    })
}

fn is_notice(m: &LdapMsg) -> bool {
    m.msgid == 0
        && matches!(&m.op, LdapOp::ExtendedResponse(r) if r.name.as_deref() == Some("1.3.6.1.4.1.1466.20036"))
}

#[test]
fn malformed_pdu_closes_only_that_connection() {
    let ts = TestServer::start();
    let mut good = Raw::connect(&ts);
    good.bind_admin(&ts);
    for garbage in [
        &b"\x30\x05\x02\x01\x01\x63\x00"[..], // search request with no body
        &b"\xff\xff\xff\xff"[..],             // not BER
        &b"\x30\x03\x02\x01\x01"[..],         // message with no operation
        &b"\x30\x84\xff\xff\xff\xff\x02"[..], // absurd length
    ] {
        let mut bad = Raw::connect(&ts);
        bad.send_bytes(garbage);
        // Either a notice of disconnection then close, or a close; never a hang or a crash.
        let mut closed = false;
        for _ in 0..3 {
            match bad.recv() {
                None => {
                    closed = true;
                    break;
                }
                Some(m) => assert!(is_notice(&m), "unexpected {m:?}"),
            }
        }
        let _ = closed;
    }
    // The other connection still works.
    good.send(LdapMsg::new(
        2,
        search_req(SUFFIX, LdapFilter::Present("objectClass".into())),
    ));
    let mut n = 0;
    loop {
        match good.recv().map(|m| m.op) {
            Some(LdapOp::SearchResultEntry(_)) => n += 1,
            Some(LdapOp::SearchResultDone(r)) => {
                assert_eq!(r.code, LdapResultCode::Success);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(n, 4);
}

#[test]
fn oversized_pdu_disconnects() {
    let ts = TestServer::start_with(|c| c.limits.max_pdu_bytes = 4096);
    let mut c = Raw::connect(&ts);
    c.bind_admin(&ts);
    c.send(LdapMsg::new(
        2,
        LdapOp::AddRequest(LdapAddRequest {
            dn: format!("cn=big,{SUFFIX}"),
            attributes: vec![LdapAttribute {
                atype: "description".into(),
                vals: vec![vec![b'x'; 100_000]],
            }],
        }),
    ));
    let mut got_notice = false;
    while let Some(m) = c.recv() {
        if is_notice(&m) {
            got_notice = true;
        }
    }
    assert!(got_notice, "notice of disconnection before the close");
    // A 1 MiB value fits the default limit (2 MiB).
    let ts = TestServer::start();
    let mut c = ts.admin();
    let big = "y".repeat(1 << 20);
    add(
        &mut c,
        &format!("cn=big,{SUFFIX}"),
        &[
            ("objectClass", &["organizationalRole"]),
            ("cn", &["big"]),
            ("description", &[&big]),
        ],
    );
}

#[test]
fn bind_version_and_message_id_checks() {
    let ts = TestServer::start();
    let mut c = Raw::connect(&ts);
    c.send(LdapMsg::new(
        1,
        LdapOp::BindRequest(LdapBindRequest {
            version: 2,
            dn: String::new(),
            cred: LdapBindCred::Simple(String::new()),
        }),
    ));
    match c.recv().map(|m| m.op) {
        Some(LdapOp::BindResponse(r)) => assert_eq!(r.res.code, LdapResultCode::ProtocolError),
        other => panic!("{other:?}"),
    }
    c.send(LdapMsg::new(
        0,
        search_req("", LdapFilter::Present("objectClass".into())),
    ));
    let m = c.recv().expect("notice");
    assert!(is_notice(&m));
    assert!(c.recv().is_none(), "closed after an invalid message id");
}

#[test]
fn abandon_stops_a_running_search() {
    let ts = TestServer::start();
    add_big(&ts, 400, "a");
    let mut c = Raw::connect(&ts);
    c.bind_admin(&ts);
    // Unindexed filter over the whole tree; the client does not read, so the server blocks on the
    // bounded queue until the abandon arrives.
    c.send(LdapMsg::new(
        5,
        search_req(
            SUFFIX,
            LdapFilter::Not(Box::new(LdapFilter::Equality("uid".into(), "x".into()))),
        ),
    ));
    std::thread::sleep(Duration::from_millis(200));
    c.send(LdapMsg::new(6, LdapOp::AbandonRequest(5)));
    c.send(LdapMsg::new(
        7,
        LdapOp::ExtendedRequest(LdapExtendedRequest {
            name: "1.3.6.1.4.1.4203.1.11.3".into(),
            value: None,
        }),
    ));
    let mut entries = 0;
    loop {
        let m = c.recv().expect("response");
        match (m.msgid, m.op) {
            (5, LdapOp::SearchResultEntry(_)) => entries += 1,
            (5, LdapOp::SearchResultDone(_)) => {
                panic!("an abandoned search must not send its result")
            }
            (7, LdapOp::ExtendedResponse(r)) => {
                assert_eq!(r.res.code, LdapResultCode::Success);
                break;
            }
            (id, op) => panic!("unexpected {id} {op:?}"),
        }
    }
    assert!(entries < 404, "search stopped early ({entries} entries)");
}

#[test]
fn starttls_rules() {
    let ts = TestServer::start();
    let mut c = Raw::connect(&ts);
    // StartTLS with a request pipelined behind it: refused, connection closed.
    let mut b = BytesMut::new();
    let mut codec = LdapCodec::default();
    codec
        .encode(
            LdapMsg::new(
                1,
                LdapOp::ExtendedRequest(LdapExtendedRequest {
                    name: "1.3.6.1.4.1.1466.20037".into(),
                    value: None,
                }),
            ),
            &mut b,
        )
        .expect("enc");
    codec
        .encode(
            LdapMsg::new(2, search_req("", LdapFilter::Present("objectClass".into()))),
            &mut b,
        )
        .expect("enc");
    c.send_bytes(&b);
    match c.recv().map(|m| m.op) {
        Some(LdapOp::ExtendedResponse(r)) => assert_ne!(r.res.code, LdapResultCode::Success),
        other => panic!("{other:?}"),
    }
    // StartTLS twice on one connection: the second is an operationsError.
    let mut tls = ts.conn_starttls();
    let r = tls
        .extended(ldap3::exop::Exop {
            name: Some("1.3.6.1.4.1.1466.20037".into()),
            val: None,
        })
        .expect("exop");
    assert_eq!(r.1.rc, 1);
}

#[test]
fn connection_limits_and_idle_timeout() {
    let ts = TestServer::start_with(|c| {
        c.limits.max_connections_per_ip = 2;
        c.limits.idle_timeout_secs = 1;
    });
    let mut a = Raw::connect(&ts);
    let _b = Raw::connect(&ts);
    std::thread::sleep(Duration::from_millis(100));
    let mut third = Raw::connect(&ts);
    assert!(
        third.recv().is_none(),
        "third connection from one address refused"
    );
    // Idle connections are closed with a notice.
    let start = Instant::now();
    let m = a.recv().expect("notice");
    assert!(is_notice(&m));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(a.recv().is_none());
}

#[test]
fn too_many_outstanding_operations_get_busy() {
    let ts = TestServer::start_with(|c| c.limits.max_ops_per_connection = 1);
    add_big(&ts, 600, "b");
    let mut c = Raw::connect(&ts);
    c.bind_admin(&ts);
    // The first search fills the response queue and waits for us; the second finds no slot.
    c.send(LdapMsg::new(
        2,
        search_req(SUFFIX, LdapFilter::Present("objectClass".into())),
    ));
    std::thread::sleep(Duration::from_millis(300));
    c.send(LdapMsg::new(
        3,
        search_req(SUFFIX, LdapFilter::Present("objectClass".into())),
    ));
    let mut busy = false;
    let mut done2 = false;
    while !(busy && done2) {
        let m = c.recv().expect("response");
        match (m.msgid, m.op) {
            (3, LdapOp::SearchResultDone(r)) => {
                assert_eq!(r.code, LdapResultCode::Busy);
                busy = true;
            }
            (2, LdapOp::SearchResultDone(r)) => {
                assert_eq!(r.code, LdapResultCode::Success);
                done2 = true;
            }
            _ => {}
        }
    }
}

#[test]
fn filter_limits() {
    let ts = TestServer::start_with(|c| c.limits.max_filter_depth = 5);
    let mut c = ts.admin();
    let deep = format!("{}(cn=x){}", "(!".repeat(10), ")".repeat(10));
    let r = c
        .search(SUFFIX, ldap3::Scope::Subtree, &deep, vec!["1.1"])
        .expect("search");
    assert_eq!(r.1.rc, 53);
}

#[test]
fn large_subtree_search_streams() {
    // Many entries through a slow reader: the server must not buffer them all (the queue is
    // bounded), and the client still receives everything.
    let ts = TestServer::start();
    let mut admin = ts.admin();
    for i in 0..600 {
        add_person(&mut admin, &format!("s{i:03}"), &format!("Stream {i}"));
    }
    let mut c = Raw::connect(&ts);
    c.bind_admin(&ts);
    c.send(LdapMsg::new(
        2,
        search_req(SUFFIX, LdapFilter::Present("uid".into())),
    ));
    let mut n = 0;
    loop {
        match c.recv().map(|m| m.op) {
            Some(LdapOp::SearchResultEntry(_)) => {
                n += 1;
                if n % 100 == 0 {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Some(LdapOp::SearchResultDone(r)) => {
                assert_eq!(r.code, LdapResultCode::Success);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(n, 600);
}

#[test]
fn time_limit_stops_a_slow_search() {
    // The client asks for a 1-second limit and does not read for 2 seconds: the search, blocked
    // on the full response queue, ends with timeLimitExceeded once it can go on.
    let ts = TestServer::start();
    add_big(&ts, 600, "t");
    let mut c = Raw::connect(&ts);
    c.bind_admin(&ts);
    let LdapOp::SearchRequest(mut req) =
        search_req(SUFFIX, LdapFilter::Present("objectClass".into()))
    else {
        unreachable!()
    };
    req.timelimit = 1;
    c.send(LdapMsg::new(2, LdapOp::SearchRequest(req)));
    std::thread::sleep(Duration::from_secs(2));
    let mut n = 0;
    loop {
        match c.recv().map(|m| m.op) {
            Some(LdapOp::SearchResultEntry(_)) => n += 1,
            Some(LdapOp::SearchResultDone(r)) => {
                assert_eq!(r.code, LdapResultCode::TimeLimitExceeded);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(n < 604, "{n} entries");
}

#[test]
fn regression_next_request_right_after_a_response_is_not_busy() {
    // The slot of an operation used to be freed only when its task was reaped, after the
    // response had gone out: a client sending its next request at once could get busy (51).
    let ts = TestServer::start_with(|c| c.limits.max_ops_per_connection = 1);
    let mut c = ts.admin();
    for i in 0..300 {
        let r = c
            .compare(ADMIN, "cn", if i % 2 == 0 { "admin" } else { "x" })
            .expect("compare");
        assert!(r.0.rc == 5 || r.0.rc == 6, "request {i}: rc {}", r.0.rc);
    }
}

#[test]
fn floods_and_slow_clients_do_not_stop_a_well_behaved_client() {
    let ts = TestServer::start_with(|c| {
        c.limits.max_connections_per_ip = 120;
        c.limits.tls_handshake_timeout_secs = 2;
    });
    add_big(&ts, 200, "f");
    let addr = ts.ldap_addr();
    let tls_addr = ts.server().ldaps_addrs[0];
    let mut hold = Vec::new();
    // Idle connections, half-sent PDUs, TLS handshakes that never start, and clients that
    // start big searches and never read.
    for _ in 0..40 {
        hold.push(TcpStream::connect(addr).expect("idle"));
    }
    for _ in 0..20 {
        let mut s = TcpStream::connect(addr).expect("partial");
        let _ = s.write_all(&[0x30, 0x84, 0x00, 0x10, 0x00]);
        hold.push(s);
    }
    for _ in 0..20 {
        hold.push(TcpStream::connect(tls_addr).expect("tls"));
    }
    let mut readers = Vec::new();
    for _ in 0..10 {
        let mut r = Raw::connect(&ts);
        r.bind_admin(&ts);
        r.send(LdapMsg::new(
            2,
            search_req(SUFFIX, LdapFilter::Present("objectClass".into())),
        ));
        readers.push(r);
    }
    // Connections beyond the per-address limit are refused...
    for _ in 0..40 {
        if let Ok(s) = TcpStream::connect(addr) {
            hold.push(s);
        }
    }
    // ... yet a well-behaved client on an existing connection is served, repeatedly.
    // (one of the bound connections; its own search streams meanwhile)
    let mut good = readers.pop().expect("one");
    for i in 0..20 {
        good.send(LdapMsg::new(
            100 + i,
            LdapOp::CompareRequest(LdapCompareRequest {
                dn: ADMIN.into(),
                atype: "cn".into(),
                val: b"admin".to_vec(),
            }),
        ));
        loop {
            match good.recv().map(|m| (m.msgid, m.op)) {
                Some((id, LdapOp::CompareResult(r))) if id == 100 + i => {
                    assert_eq!(r.code, LdapResultCode::CompareTrue);
                    break;
                }
                Some((2, _)) => continue, // the earlier search's entries
                other => panic!("{other:?}"),
            }
        }
    }
    drop(hold);
    drop(readers);
    // And new clients get in again once the flood is gone.
    std::thread::sleep(Duration::from_millis(300));
    let mut c = ts.admin();
    let r = c
        .search(SUFFIX, ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"])
        .expect("search");
    assert_eq!(r.1.rc, 0);
}

/// BER of a request built by the codec, to cut or alter.
fn encoded(msg: LdapMsg) -> Vec<u8> {
    let mut b = BytesMut::new();
    LdapCodec::default().encode(msg, &mut b).expect("encode");
    b.to_vec()
}

#[test]
fn many_malformed_requests_leave_other_clients_served() {
    let ts = TestServer::start();
    let mut good = Raw::connect(&ts);
    good.bind_admin(&ts);
    let bind = encoded(LdapMsg::new(
        1,
        LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: ADMIN.into(),
            cred: LdapBindCred::Simple("x".into()),
        }),
    ));
    let mut wrong_tag = bind.clone();
    wrong_tag[0] = 0x31;
    let mut unknown_op = bind.clone();
    // The operation's tag: [APPLICATION 0] constructed -> [APPLICATION 29] (no such operation).
    if let Some(p) = unknown_op.iter().position(|b| *b == 0x60) {
        unknown_op[p] = 0x7d;
    }
    let mut deep = vec![
        0x30, 0x84, 0x00, 0x00, 0x27, 0x10, 0x02, 0x01, 0x05, 0x63, 0x84, 0x00, 0x00, 0x27, 0x00,
    ];
    for _ in 0..2000 {
        deep.extend_from_slice(&[0xa0, 0x84, 0x00, 0x00, 0x10, 0x00]);
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", bind[..bind.len() / 2].to_vec()),
        ("wrong outer tag", wrong_tag),
        ("unknown operation", unknown_op),
        (
            "huge length",
            vec![0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01],
        ),
        (
            "length longer than content",
            vec![0x30, 0x20, 0x02, 0x01, 0x01, 0x42, 0x00],
        ),
        (
            "integer too long",
            vec![
                0x30, 0x0c, 0x02, 0x09, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x42,
                0x00,
            ],
        ),
        ("deep nesting", deep),
        ("zero bytes", vec![0u8; 64]),
    ];
    for (name, bytes) in cases {
        let mut bad = Raw::connect(&ts);
        // Incomplete PDUs make the server wait for more: do not wait long for it here.
        bad.s
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        bad.send_bytes(&bytes);
        if name == "truncated" {
            let _ = bad.s.shutdown(std::net::Shutdown::Write);
        }
        // The server answers with at most a notice of disconnection, then closes.
        for _ in 0..3 {
            match bad.recv() {
                None => break,
                Some(m) => assert!(is_notice(&m), "{name}: unexpected {m:?}"),
            }
        }
        // Meanwhile the well-behaved client is served.
        good.send(LdapMsg::new(
            7,
            LdapOp::CompareRequest(LdapCompareRequest {
                dn: ADMIN.into(),
                atype: "cn".into(),
                val: b"admin".to_vec(),
            }),
        ));
        match good.recv().map(|m| m.op) {
            Some(LdapOp::CompareResult(r)) => {
                assert_eq!(r.code, LdapResultCode::CompareTrue, "after {name}")
            }
            other => panic!("after {name}: {other:?}"),
        }
    }
    // Negative limits are no malformed PDU: that request gets protocolError (RFC 4511: 0 ..
    // maxInt; see negative_size_or_time_limit_is_a_protocol_error) and the connection stays.
    let LdapOp::SearchRequest(mut req) =
        search_req(SUFFIX, LdapFilter::Present("objectClass".into()))
    else {
        unreachable!()
    };
    req.sizelimit = -1;
    req.timelimit = -1;
    good.send(LdapMsg::new(8, LdapOp::SearchRequest(req)));
    loop {
        match good.recv().map(|m| m.op) {
            Some(LdapOp::SearchResultEntry(_)) => {}
            Some(LdapOp::SearchResultDone(r)) => {
                assert_eq!(r.code, LdapResultCode::ProtocolError);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    good.send(LdapMsg::new(
        9,
        LdapOp::CompareRequest(LdapCompareRequest {
            dn: ADMIN.into(),
            atype: "cn".into(),
            val: b"admin".to_vec(),
        }),
    ));
    match good.recv().map(|m| m.op) {
        Some(LdapOp::CompareResult(r)) => assert_eq!(r.code, LdapResultCode::CompareTrue),
        other => panic!("after negative limits: {other:?}"),
    }
}

/// The DN and description of each search entry, and the final result code.
fn collect_search(c: &mut Raw, msgid: i32, pause_every: usize) -> (Vec<(String, usize)>, u32) {
    let mut got = Vec::new();
    loop {
        let m = c.recv().expect("response");
        assert_eq!(m.msgid, msgid);
        match m.op {
            LdapOp::SearchResultEntry(e) => {
                let len = e
                    .attributes
                    .iter()
                    .find(|a| a.atype.eq_ignore_ascii_case("description"))
                    .map(|a| a.vals.iter().map(|v| v.len()).sum())
                    .unwrap_or(0);
                got.push((e.dn, len));
                if pause_every > 0 && got.len() % pause_every == 0 {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            LdapOp::SearchResultDone(r) => return (got, r.code as u32),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn many_mib_to_a_slow_reader_arrive_complete_and_in_order() {
    let ts = TestServer::start();
    add_big(&ts, 250, "m");
    let filter = || {
        LdapFilter::Substring(
            "cn".into(),
            LdapSubstringFilter {
                initial: Some("m".into()),
                any: vec![],
                final_: None,
            },
        )
    };
    // A client that reads at once gives the order the server sends in.
    let mut fast = Raw::connect(&ts);
    fast.bind_admin(&ts);
    fast.send(LdapMsg::new(2, search_req(SUFFIX, filter())));
    let (expected, code) = collect_search(&mut fast, 2, 0);
    assert_eq!(code, 0);
    assert_eq!(expected.len(), 250);
    assert!(expected.iter().all(|(_, len)| *len == 32 * 1024));
    // About 8 MiB to a client that pauses every few entries: all of it, in the same order.
    let mut slow = Raw::connect(&ts);
    slow.bind_admin(&ts);
    slow.send(LdapMsg::new(3, search_req(SUFFIX, filter())));
    std::thread::sleep(Duration::from_millis(300));
    let (got, code) = collect_search(&mut slow, 3, 8);
    assert_eq!(code, 0);
    assert_eq!(got, expected);
    // The same over LDAPS, where the connection task writes.
    let mut tls = ts.conn_ldaps();
    tls.simple_bind(ADMIN, &ts.admin_password())
        .expect("bind")
        .success()
        .expect("admin bind");
    let (entries, res) = tls
        .search(
            SUFFIX,
            ldap3::Scope::Subtree,
            "(cn=m*)",
            vec!["description"],
        )
        .expect("search")
        .success()
        .expect("success");
    assert_eq!(res.rc, 0);
    let dns: Vec<String> = entries
        .into_iter()
        .map(|e| ldap3::SearchEntry::construct(e).dn)
        .collect();
    let want: Vec<String> = expected.into_iter().map(|(dn, _)| dn).collect();
    assert_eq!(dns, want);
}

#[test]
fn pipelined_requests_each_get_exactly_one_response() {
    let ts = TestServer::start_with(|c| c.limits.max_ops_per_connection = 1000);
    let mut c = Raw::connect(&ts);
    c.bind_admin(&ts);
    // 600 requests in one write: compares, base searches, and searches of a missing entry.
    let mut b = BytesMut::new();
    let mut codec = LdapCodec::default();
    for i in 0..600 {
        let id = 10 + i;
        let op = match i % 3 {
            0 => LdapOp::CompareRequest(LdapCompareRequest {
                dn: ADMIN.into(),
                atype: "cn".into(),
                val: b"admin".to_vec(),
            }),
            1 => LdapOp::SearchRequest(LdapSearchRequest {
                scope: LdapSearchScope::Base,
                ..match search_req(ADMIN, LdapFilter::Present("objectClass".into())) {
                    LdapOp::SearchRequest(r) => r,
                    _ => unreachable!(),
                }
            }),
            _ => search_req(
                &format!("cn=missing{i},{SUFFIX}"),
                LdapFilter::Present("objectClass".into()),
            ),
        };
        codec.encode(LdapMsg::new(id, op), &mut b).expect("enc");
    }
    c.send_bytes(&b);
    let mut entries = std::collections::HashMap::new();
    let mut done = std::collections::HashSet::new();
    while done.len() < 600 {
        let m = c.recv().expect("response");
        let i = m.msgid - 10;
        assert!((0..600).contains(&i), "unknown message id {}", m.msgid);
        assert!(!done.contains(&m.msgid), "{} answered twice", m.msgid);
        match (i % 3, m.op) {
            (0, LdapOp::CompareResult(r)) => {
                assert_eq!(r.code, LdapResultCode::CompareTrue);
                done.insert(m.msgid);
            }
            (1, LdapOp::SearchResultEntry(e)) => {
                assert_eq!(e.dn, ADMIN);
                *entries.entry(m.msgid).or_insert(0) += 1;
            }
            (1, LdapOp::SearchResultDone(r)) => {
                assert_eq!(r.code, LdapResultCode::Success);
                assert_eq!(entries.get(&m.msgid), Some(&1), "{}: one entry", m.msgid);
                done.insert(m.msgid);
            }
            (2, LdapOp::SearchResultDone(r)) => {
                assert_eq!(r.code, LdapResultCode::NoSuchObject);
                done.insert(m.msgid);
            }
            (_, op) => panic!("{}: unexpected {op:?}", m.msgid),
        }
    }
    // Nothing more follows.
    c.s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    assert!(c.recv().is_none());
}

#[test]
fn a_client_that_never_reads_is_disconnected_after_the_write_timeout() {
    let ts = TestServer::start_with(|c| c.limits.write_timeout_secs = 1);
    add_big(&ts, 500, "w");
    let mut c = Raw::connect(&ts);
    c.bind_admin(&ts);
    c.send(LdapMsg::new(
        2,
        search_req(SUFFIX, LdapFilter::Present("objectClass".into())),
    ));
    // 16 MiB of entries is more than the socket buffers hold: the search stalls, times out.
    std::thread::sleep(Duration::from_secs(4));
    let start = Instant::now();
    let mut n = 0;
    while let Some(m) = c.recv() {
        match m.op {
            LdapOp::SearchResultEntry(_) => n += 1,
            other => panic!("after {n} entries: {other:?}"),
        }
    }
    assert!(n < 504, "{n} entries");
    assert!(start.elapsed() < Duration::from_secs(5));
    // The server itself is fine.
    let mut other = ts.admin();
    let r = other
        .search(SUFFIX, ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"])
        .expect("search");
    assert_eq!(r.1.rc, 0);
}

/// Issue 14: a search with a negative sizeLimit or timeLimit (RFC 4511: INTEGER (0 .. maxInt))
/// is a protocolError (2), as in OpenLDAP, not a search without a limit; the connection stays
/// usable. The limits as libldap encodes -1 (one byte, `0xFF`), in four bytes, and above maxInt.
#[test]
fn negative_size_or_time_limit_is_a_protocol_error() {
    // LDAPMessage { msgid, searchRequest { SUFFIX, subtree, never, size, time, FALSE,
    // (objectClass=*), { 1.1 } } }, every length in short form.
    let pdu = |msgid: u8, size: &[u8], time: &[u8]| {
        let tlv = |tag: u8, content: &[u8]| {
            let mut v = vec![tag, content.len() as u8];
            v.extend_from_slice(content);
            v
        };
        let body = [
            tlv(0x04, SUFFIX.as_bytes()),
            tlv(0x0a, &[2]),
            tlv(0x0a, &[0]),
            tlv(0x02, size),
            tlv(0x02, time),
            tlv(0x01, &[0]),
            tlv(0x87, b"objectClass"),
            tlv(0x30, &tlv(0x04, b"1.1")),
        ]
        .concat();
        tlv(0x30, &[tlv(0x02, &[msgid]), tlv(0x63, &body)].concat())
    };
    let ts = TestServer::start();
    let mut c = Raw::connect(&ts);
    c.bind_admin(&ts);
    let done = |c: &mut Raw| loop {
        match c.recv().map(|m| m.op) {
            Some(LdapOp::SearchResultEntry(_)) => {}
            Some(LdapOp::SearchResultDone(r)) => return r,
            other => panic!("{other:?}"),
        }
    };
    let cases: [(&[u8], &[u8], &str); 5] = [
        (&[0xff], &[0x00], "size limit"),
        (&[0xff, 0xff, 0xff, 0xff], &[0x00], "size limit"),
        (&[0x00], &[0xff], "time limit"),
        (&[0x00], &[0x80, 0x00, 0x00, 0x00], "time limit"),
        (&[0x00, 0x80, 0x00, 0x00, 0x00], &[0x00], "size limit"),
    ];
    for (i, (size, time, what)) in cases.iter().enumerate() {
        c.send_bytes(&pdu(2 + i as u8, size, time));
        let r = done(&mut c);
        assert_eq!(r.code, LdapResultCode::ProtocolError, "{size:?} {time:?}");
        assert!(r.message.contains(what), "{}", r.message);
    }
    // The connection still serves: 0 .. maxInt are limits.
    c.send_bytes(&pdu(9, &[0x7f, 0xff, 0xff, 0xff], &[0x00]));
    assert_eq!(done(&mut c).code, LdapResultCode::Success);
    c.send_bytes(&pdu(10, &[0x01], &[0x00]));
    assert_eq!(done(&mut c).code, LdapResultCode::SizeLimitExceeded);
    // Through a client library as well.
    let mut l = ts.admin();
    let r = l
        .with_search_options(ldap3::SearchOptions::new().sizelimit(-1))
        .search(
            SUFFIX,
            ldap3::Scope::Subtree,
            "(objectClass=*)",
            vec!["1.1"],
        )
        .expect("search");
    assert_eq!(r.1.rc, 2);
}

/// Issue 14: a failed TLS handshake was logged as a malformed LDAP request. It is logged as a
/// TLS failure with its cause, and the client gets no LDAP Notice of Disconnection: plain LDAP
/// to the LDAPS port, plain LDAP after StartTLS, and a TLS ClientHello to the plain LDAP port.
#[test]
fn failed_tls_handshake_is_logged_as_a_tls_failure_not_a_malformed_request() {
    let log = server_log();
    let ts = TestServer::start();
    let bind = encoded(LdapMsg::new(
        1,
        LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: String::new(),
            cred: LdapBindCred::Simple(String::new()),
        }),
    ));
    let read_all = |s: &mut TcpStream| {
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got
    };
    let lines_of = |client: &TcpStream| {
        let me = client.local_addr().expect("local address");
        log.lines_with(&format!("peer={me}"), Duration::from_secs(10))
    };
    let malformed = |lines: &[String]| lines.iter().any(|l| l.contains("malformed"));

    // Plain LDAP to the LDAPS port: rustls answers with an alert, no LDAP.
    let mut s = TcpStream::connect(ts.server().ldaps_addrs[0]).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(&bind).expect("write");
    let got = read_all(&mut s);
    assert_eq!(got.first(), Some(&0x15), "a TLS alert record: {got:?}");
    let lines = lines_of(&s);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("TLS handshake failed: not TLS") && l.contains("LDAPS")),
        "{lines:?}"
    );
    assert!(!malformed(&lines), "{lines:?}");

    // StartTLS, then plain LDAP instead of a ClientHello.
    let mut c = Raw::connect(&ts);
    c.send(LdapMsg::new(
        1,
        LdapOp::ExtendedRequest(LdapExtendedRequest {
            name: "1.3.6.1.4.1.1466.20037".into(),
            value: None,
        }),
    ));
    match c.recv().map(|m| m.op) {
        Some(LdapOp::ExtendedResponse(r)) => assert_eq!(r.res.code, LdapResultCode::Success),
        other => panic!("StartTLS: {other:?}"),
    }
    c.send_bytes(&bind);
    let got = read_all(&mut c.s);
    assert_ne!(got.first(), Some(&0x30), "no LDAP after StartTLS: {got:?}");
    let lines = lines_of(&c.s);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("TLS handshake failed: not TLS") && l.contains("StartTLS")),
        "{lines:?}"
    );
    assert!(!malformed(&lines), "{lines:?}");

    // A TLS client on the plain LDAP port (ldaps:// with the LDAP port): its ClientHello is no
    // malformed LDAP message, and an LDAP notice would mean nothing to it.
    let mut hello = Vec::new();
    rustls::ClientConnection::new(ts.tls_config(), "localhost".try_into().expect("name"))
        .expect("client")
        .write_tls(&mut hello)
        .expect("ClientHello");
    let mut s = TcpStream::connect(ts.ldap_addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(&hello).expect("write");
    assert_eq!(
        read_all(&mut s),
        Vec::<u8>::new(),
        "closed without a notice"
    );
    let lines = lines_of(&s);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("TLS handshake failed") && l.contains("plain LDAP port")),
        "{lines:?}"
    );
    assert!(!malformed(&lines), "{lines:?}");

    // Malformed LDAP is still reported as such.
    let mut s = TcpStream::connect(ts.ldap_addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"\x30\x03\x02\x01\x01").expect("write");
    let _ = read_all(&mut s);
    assert!(malformed(&lines_of(&s)));
}
