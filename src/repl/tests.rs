//! A provider and a consumer on real stores, without the network: the provider's sync search
//! writes into a capture, the captured messages are decoded as the consumer's network side
//! decodes them and applied by the consumer's [`Applier`]; both directories must then hold the
//! same entries (DN, entryUUID, entryCSN, attributes).

use super::consumer::{Applier, Msg, Stop};
use super::provider::{sync_search, SyncEnd, SyncOut};
use super::syncinfo::{self, State, SyncInfo};
use crate::acl::Identity;
use crate::core::clock::ManualClock;
use crate::core::dn::Dn;
use crate::ops::controls::SyncRequest;
use crate::ops::Session;
use crate::service::config::Config;
use crate::service::Directory;
use crate::store::View;
use crate::write::change::{Attrs, Change, Mod, ModOp, Origin, Write};
use crate::write::pipeline::{apply, Plain};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapDerefAliases, LdapFilter, LdapIntermediateResponse, LdapOp, LdapSearchRequest,
    LdapSearchScope,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

struct Side {
    dir: Directory,
    _tmp: tempfile::TempDir,
}

fn open(sid: u16) -> Side {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Config {
        data_dir: tmp.path().to_path_buf(),
        load_sample: false,
        openpgp_keyserver: false,
        ..Config::default()
    };
    c.store.cache_mib = 8;
    c.replication.server_id = sid;
    let clock = Arc::new(ManualClock::new(
        time::macros::datetime!(2026-12-04 12:00 UTC),
    ));
    let dir = crate::app::server::open_directory(&c, clock).unwrap();
    crate::app::bootstrap::ensure_base(&dir).unwrap();
    Side { dir, _tmp: tmp }
}

fn admin(s: &Side) -> Identity {
    Identity::User(s.dir.policy.admin.clone())
}

fn dn(s: &Side, rdns: &str) -> Dn {
    s.dir
        .parse_dn(&format!("{rdns},{}", s.dir.suffix.display()))
        .unwrap()
}

fn write(s: &Side, change: Change) {
    let a = admin(s);
    let w = Write {
        change,
        actor: &a,
        origin: Origin::Client,
    };
    apply(&s.dir, w, &mut Plain).unwrap();
}

fn attrs(v: &[(&str, &str)]) -> Attrs {
    v.iter()
        .map(|(n, v)| (n.to_string(), vec![v.as_bytes().to_vec()]))
        .collect()
}

fn add_ou(s: &Side, rdns: &str) {
    let ou = rdns.split(',').next().unwrap().trim_start_matches("ou=");
    let a = attrs(&[("objectClass", "organizationalUnit"), ("ou", ou)]);
    write(
        s,
        Change::Add {
            dn: dn(s, rdns),
            attrs: a,
        },
    );
}

fn add_person(s: &Side, rdns: &str) {
    let cn = rdns.split(',').next().unwrap().trim_start_matches("cn=");
    let a = attrs(&[("objectClass", "person"), ("cn", cn), ("sn", cn)]);
    write(
        s,
        Change::Add {
            dn: dn(s, rdns),
            attrs: a,
        },
    );
}

/// Rename `from` to `rdn`, below `superior` when given.
fn rename(s: &Side, from: &str, rdn: &str, superior: Option<&str>) {
    write(
        s,
        Change::Rename {
            dn: dn(s, from),
            new_rdn: Dn::parse_rdn(rdn, &s.dir.schema).unwrap(),
            delete_old_rdn: true,
            new_superior: superior.map(|p| dn(s, p)),
        },
    );
}

fn describe(s: &Side, rdns: &str, text: &str) {
    write(
        s,
        Change::Modify {
            dn: dn(s, rdns),
            mods: vec![Mod {
                op: ModOp::Replace,
                attr: "description".into(),
                values: vec![text.as_bytes().to_vec()],
            }],
            permissive: false,
        },
    );
}

/// Every entry at and below `base`: normalised DN -> its attributes (names lowercased, values
/// sorted), the operational ones included.
fn contents(s: &Side, base: &Dn) -> BTreeMap<String, BTreeMap<String, Vec<Vec<u8>>>> {
    let snap = s.dir.store.read().unwrap();
    let mut ids = Vec::new();
    snap.scan_prefix::<crate::store::StoreError>(&base.store_key(), None, &mut |_, id| {
        ids.push(id);
        Ok(true)
    })
    .unwrap();
    let mut out = BTreeMap::new();
    for id in ids {
        let e = snap.entry(id).unwrap().unwrap();
        let d = s.dir.parse_dn(&e.dn).unwrap();
        let mut a = BTreeMap::new();
        for at in &e.attrs {
            let mut v = at.values.clone();
            v.sort();
            a.insert(at.name.to_ascii_lowercase(), v);
        }
        out.insert(d.norm().to_string(), a);
    }
    out
}

/// The provider's messages, kept; the first flush (the end of the refresh) waits for `gate`.
struct Capture<'a> {
    msgs: &'a Mutex<Vec<(LdapOp, Vec<LdapControl>)>>,
    gate: Option<mpsc::Receiver<()>>,
}

impl SyncOut for Capture<'_> {
    fn send(&mut self, op: LdapOp, ctrls: Vec<LdapControl>) -> bool {
        self.msgs.lock().unwrap().push((op, ctrls));
        true
    }

    fn flush(&mut self) -> bool {
        if let Some(gate) = self.gate.take() {
            let _ = gate.recv();
        }
        true
    }
}

/// A provider's message as the consumer's network side decodes it.
fn decode(op: &LdapOp, ctrls: &[LdapControl]) -> Msg {
    match op {
        LdapOp::SearchResultEntry(e) => {
            let value = ctrls
                .iter()
                .find_map(|c| match c {
                    LdapControl::Unknown { oid, value, .. } if oid == syncinfo::OID_SYNC_STATE => {
                        value.clone()
                    }
                    _ => None,
                })
                .expect("an entry with a Sync State control");
            let (state, uuid, cookie) = syncinfo::decode_state(&value).unwrap();
            Msg::Entry {
                dn: e.dn.clone(),
                attrs: e
                    .attributes
                    .iter()
                    .map(|a| (a.atype.clone(), a.vals.clone()))
                    .collect(),
                state,
                uuid,
                cookie,
            }
        }
        LdapOp::IntermediateResponse(LdapIntermediateResponse::Raw { value: Some(v), .. }) => {
            Msg::from_info(SyncInfo::decode(v).unwrap())
        }
        other => panic!("unexpected message {other:?}"),
    }
}

/// Run a refreshAndPersist sync search without cookie of the subtree at `base` on `p`; once
/// its refresh is out, run
/// `meanwhile` (the changes its persistent phase then finds committed together), and stop the
/// search once it has sent a cookie with the CSN of `p`'s last change record. The messages,
/// in order.
fn persist_across(p: &Side, base: &Dn, meanwhile: impl FnOnce()) -> Vec<Msg> {
    let msgs = Mutex::new(Vec::new());
    let cancel = AtomicBool::new(false);
    let (open, gate) = mpsc::channel();
    let mut session = Session::new(1, "127.0.0.1:389".parse().unwrap(), false);
    session.identity = admin(p);
    let req = LdapSearchRequest {
        base: base.display().to_string(),
        scope: LdapSearchScope::Subtree,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter: LdapFilter::Present("objectClass".into()),
        attrs: vec!["*".into(), "+".into()],
    };
    let sync = SyncRequest {
        persist: true,
        cookie: None,
        reload_hint: false,
    };
    let end = std::thread::scope(|s| {
        let search = s.spawn(|| {
            let mut out = Capture {
                msgs: &msgs,
                gate: Some(gate),
            };
            sync_search(&p.dir, &session, &req, &sync, &cancel, &mut out)
        });
        // The refresh ends with refreshPresent (done); the search then waits at its flush.
        let refreshed = || {
            msgs.lock()
                .unwrap()
                .iter()
                .any(|(op, _)| matches!(op, LdapOp::IntermediateResponse(_)))
        };
        let t = Instant::now();
        while !refreshed() {
            assert!(t.elapsed() < Duration::from_secs(10), "no refresh in 10s");
            std::thread::sleep(Duration::from_millis(5));
        }
        meanwhile();
        open.send(()).unwrap();
        // The CSN of the last change record: its message carries it in the cookie.
        let snap = p.dir.store.read().unwrap();
        let (_, last) = snap.change_bounds().unwrap().unwrap();
        let want = format!("csn={}", snap.changes(last, 1).unwrap()[0].1.csn);
        drop(snap);
        let sent_last = || {
            msgs.lock().unwrap().iter().any(|(_, ctrls)| {
                ctrls.iter().any(|c| match c {
                    LdapControl::Unknown { value: Some(v), .. } => {
                        String::from_utf8_lossy(v).contains(&want)
                    }
                    _ => false,
                })
            })
        };
        let t = Instant::now();
        while !sent_last() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "the persistent phase did not send the last change ({want}) within 10s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        cancel.store(true, Ordering::Relaxed);
        search.join().unwrap()
    });
    assert!(matches!(end, Ok(SyncEnd::Abandoned)), "ended by the cancel");
    let msgs = msgs.into_inner().unwrap();
    let mut out = vec![Msg::Begin { full: true }];
    out.extend(msgs.iter().map(|(op, c)| decode(op, c)));
    out
}

/// A refreshOnly sync search of the subtree at `base` on `p` with `cookie`: the messages as
/// the consumer gets them (Begin first, Done last).
fn refresh_only(p: &Side, base: &Dn, cookie: Option<Vec<u8>>) -> Vec<Msg> {
    let msgs = Mutex::new(Vec::new());
    let mut session = Session::new(1, "127.0.0.1:389".parse().unwrap(), false);
    session.identity = admin(p);
    let req = LdapSearchRequest {
        base: base.display().to_string(),
        scope: LdapSearchScope::Subtree,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter: LdapFilter::Present("objectClass".into()),
        attrs: vec!["*".into(), "+".into()],
    };
    let full = !cookie
        .as_deref()
        .is_some_and(|c| String::from_utf8_lossy(c).contains("csn="));
    let sync = SyncRequest {
        persist: false,
        cookie,
        reload_hint: false,
    };
    let mut out = Capture {
        msgs: &msgs,
        gate: None,
    };
    let end = sync_search(
        &p.dir,
        &session,
        &req,
        &sync,
        &AtomicBool::new(false),
        &mut out,
    );
    let Ok(SyncEnd::Done(res, ctrls)) = end else {
        panic!("refreshOnly search: {:?}", end.err());
    };
    assert_eq!(res.code, ldap3_proto::proto::LdapResultCode::Success);
    let done = ctrls
        .iter()
        .find_map(|c| match c {
            LdapControl::Unknown { oid, value, .. } if oid == syncinfo::OID_SYNC_DONE => {
                value.clone()
            }
            _ => None,
        })
        .expect("Sync Done control");
    let (cookie, deletes) = syncinfo::decode_done(&done).unwrap();
    let mut all = vec![Msg::Begin { full }];
    all.extend(
        msgs.into_inner()
            .unwrap()
            .iter()
            .map(|(op, c)| decode(op, c)),
    );
    all.push(Msg::Done { deletes, cookie });
    all
}

/// The entries among `msgs` (DN, state).
fn entries(msgs: &[Msg]) -> Vec<(String, State)> {
    msgs.iter()
        .filter_map(|m| match m {
            Msg::Entry { dn, state, .. } => Some((dn.clone(), *state)),
            _ => None,
        })
        .collect()
}

fn stored_cookie(s: &Side) -> Vec<u8> {
    super::consumer::stored_cookie(&s.dir.store)
        .unwrap()
        .expect("a stored cookie")
}

/// Apply `msgs` on `c` as its consumer of the subtree at `base` does.
fn apply_all(c: &Side, base: Dn, msgs: Vec<Msg>) -> Stop {
    let (tx, mut rx) = tokio::sync::mpsc::channel(msgs.len());
    for m in msgs {
        tx.try_send(m).unwrap();
    }
    drop(tx);
    let who = c.dir.policy.admin.clone();
    Applier::new(&c.dir, base, who).run(&mut rx)
}

fn applied(c: &Side, base: Dn, msgs: Vec<Msg>) {
    match apply_all(c, base, msgs) {
        Stop::Closed => {}
        Stop::Failed(e) => panic!("the consumer could not apply the changes: {e:?}"),
    }
}

/// Issue 16's chain stall: an entry moved below a parent, then that parent renamed (and an
/// entry changed below a grandparent, then the grandparent renamed) — committed before the
/// persistent phase reads them, as a consumer that is itself a provider (B of A -> B -> C)
/// commits several of its provider's changes in one transaction. The consumer holds the
/// parents under their old names; the changes must reach it in an order it can apply.
#[test]
fn a_change_below_a_parent_renamed_later_reaches_the_consumer_in_order() {
    let p = open(1);
    let c = open(2);
    add_ou(&p, "ou=repl");
    add_ou(&p, "ou=other");
    add_person(&p, "cn=three,ou=other");
    add_ou(&p, "ou=top");
    add_ou(&p, "ou=mid,ou=top");
    add_person(&p, "cn=x,ou=mid,ou=top");
    let base = p.dir.suffix.clone();
    let msgs = persist_across(&p, &base, || {
        rename(&p, "cn=three,ou=other", "cn=trois", Some("ou=repl"));
        rename(&p, "ou=repl", "ou=renamed", None);
        describe(
            &p,
            "cn=x,ou=mid,ou=top",
            "changed before its grandparent's rename",
        );
        rename(&p, "ou=top", "ou=topper", None);
    });
    applied(&c, base.clone(), msgs);
    let (want, got) = (contents(&p, &base), contents(&c, &base));
    assert!(
        want.contains_key(dn(&p, "cn=trois,ou=renamed").norm()),
        "{:?}",
        want.keys()
    );
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    assert_eq!(want, got);
}

/// An entry moved into the scope of a sync search, then its new parent renamed, both committed
/// before the persistent phase reads them: the entry reaches the consumer (at its DN of now,
/// after its parent).
#[test]
fn an_entry_moved_into_scope_below_a_parent_renamed_later_reaches_the_consumer() {
    let p = open(1);
    let c = open(2);
    add_ou(&p, "ou=zone");
    add_ou(&p, "ou=p,ou=zone");
    add_ou(&p, "ou=outside");
    add_person(&p, "cn=y,ou=outside");
    add_ou(&c, "ou=zone");
    let base = dn(&p, "ou=zone");
    let msgs = persist_across(&p, &base, || {
        rename(&p, "cn=y,ou=outside", "cn=y", Some("ou=p,ou=zone"));
        rename(&p, "ou=p,ou=zone", "ou=q", None);
    });
    applied(&c, base.clone(), msgs);
    let (want, got) = (contents(&p, &base), contents(&c, &base));
    assert!(
        want.contains_key(dn(&p, "cn=y,ou=q,ou=zone").norm()),
        "{:?}",
        want.keys()
    );
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    assert_eq!(want, got);
}

/// A -> B -> C, the cookies: C's cookie keeps B's own server id's CSN (from B's first start)
/// next to A's, though B's persistent phase sends only the CSN of each change; so C's next
/// session with nothing new is told so (no entry sent), and one after one more change on A
/// gets that change alone (a replay from C's CSN of A), not a present phase or a replay from
/// B's first start.
#[test]
fn a_consumer_of_a_consumer_comes_back_with_a_replay() {
    let a = open(1);
    let b = open(2);
    let c = open(3);
    let base = a.dir.suffix.clone();
    add_ou(&a, "ou=one");
    add_person(&a, "cn=p,ou=one");
    applied(&b, base.clone(), refresh_only(&a, &base, None));
    let ctx_b = b.dir.store.read().unwrap().context_csn().unwrap();
    assert!(
        ctx_b.get(1).is_some() && ctx_b.get(2).is_some(),
        "{ctx_b:?}"
    );
    // C follows B; meanwhile a change on A reaches B (B's changelog: A's CSN).
    let msgs = persist_across(&b, &base, || {
        describe(&a, "cn=p,ou=one", "first");
        let m = refresh_only(&a, &base, Some(stored_cookie(&b)));
        applied(&b, base.clone(), m);
    });
    applied(&c, base.clone(), msgs);
    assert_eq!(contents(&b, &base), contents(&c, &base));
    let kept = String::from_utf8(stored_cookie(&c)).unwrap();
    let ctx_b = b.dir.store.read().unwrap().context_csn().unwrap();
    assert!(
        kept.ends_with(&format!("csn={}", ctx_b.to_text())),
        "{kept} {ctx_b:?}"
    );
    // Nothing new: no entry.
    let again = refresh_only(&b, &base, Some(stored_cookie(&c)));
    assert_eq!(entries(&again), Vec::new());
    // One more change on A, through B: that entry alone.
    describe(&a, "cn=p,ou=one", "second");
    let m = refresh_only(&a, &base, Some(stored_cookie(&b)));
    applied(&b, base.clone(), m);
    let again = refresh_only(&b, &base, Some(stored_cookie(&c)));
    let p = dn(&b, "cn=p,ou=one");
    assert_eq!(
        entries(&again)
            .into_iter()
            .map(|(d, st)| (b.dir.parse_dn(&d).unwrap().norm().to_string(), st))
            .collect::<Vec<_>>(),
        vec![(p.norm().to_string(), State::Add)]
    );
    applied(&c, base.clone(), again);
    assert_eq!(contents(&b, &base), contents(&c, &base));
}

/// Regression (issue 16): with overlapping writers a change is committed without sync and
/// made durable by the group flush a few milliseconds later; in between it is visible. The
/// persistent phase sent it in that window, so a provider crash could leave a consumer holding
/// a change the provider had lost. It must wait for the flush.
#[test]
fn the_persistent_phase_sends_a_change_only_once_it_is_durable() {
    use crate::store::changelog::{ChangeKind, ChangeRecord};
    let p = open(1);
    add_person(&p, "cn=durable");
    let base = p.dir.suffix.clone();
    let target = dn(&p, "cn=durable");
    let uuid = {
        let snap = p.dir.store.read().unwrap();
        let (_, e) = snap.lookup(&target).unwrap().unwrap();
        e.first_str("entryUUID").unwrap().to_string()
    };
    let msgs = Mutex::new(Vec::new());
    let cancel = AtomicBool::new(false);
    let mut session = Session::new(1, "127.0.0.1:389".parse().unwrap(), false);
    session.identity = admin(&p);
    let req = LdapSearchRequest {
        base: base.display().to_string(),
        scope: LdapSearchScope::Subtree,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter: LdapFilter::Present("objectClass".into()),
        attrs: vec!["*".into(), "+".into()],
    };
    let sync = SyncRequest {
        persist: true,
        cookie: None,
        reload_hint: false,
    };
    let count = || msgs.lock().unwrap().len();
    // A failed assertion below must end the search too, or the scope
    // would wait for it forever instead of reporting the failure.
    struct CancelOnDrop<'a>(&'a AtomicBool);
    impl Drop for CancelOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let end = std::thread::scope(|s| {
        let search = s.spawn(|| {
            let mut out = Capture {
                msgs: &msgs,
                gate: None,
            };
            sync_search(&p.dir, &session, &req, &sync, &cancel, &mut out)
        });
        let _cancel_on_failure = CancelOnDrop(&cancel);
        let t = Instant::now();
        while !msgs
            .lock()
            .unwrap()
            .iter()
            .any(|(op, _)| matches!(op, LdapOp::IntermediateResponse(_)))
        {
            assert!(t.elapsed() < Duration::from_secs(10), "no refresh in 10s");
            std::thread::sleep(Duration::from_millis(5));
        }
        let refreshed = count();
        // The second of two overlapping writers: committed, not yet flushed.
        let rec = ChangeRecord {
            time: "20261204120000Z".into(),
            csn: String::new(),
            who: String::new(),
            kind: ChangeKind::Modify,
            dn: target.display().to_string(),
            new_dn: None,
            attrs: vec!["description".into()],
            uuid: uuid.clone(),
            delete_old_rdn: false,
            values: Vec::new(),
        };
        let seq = p
            .dir
            .store
            .write_with::<_, crate::store::StoreError>(redb::Durability::None, |w| w.log(&rec))
            .unwrap();
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(count(), refreshed, "a change sent before it was durable");
        // The flush: now it goes out.
        p.dir.store.ensure_durable(seq).unwrap();
        let t = Instant::now();
        while count() == refreshed {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "the durable change was not sent within 10s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        cancel.store(true, Ordering::Relaxed);
        search.join().unwrap()
    });
    assert!(matches!(end, Ok(SyncEnd::Abandoned)));
    let msgs = msgs.into_inner().unwrap();
    let last = decode(&msgs[msgs.len() - 1].0, &msgs[msgs.len() - 1].1);
    assert!(
        matches!(&last, Msg::Entry { dn, .. } if dn.eq_ignore_ascii_case(target.display())),
        "{last:?}"
    );
}
