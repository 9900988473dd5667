//! Reminders (docs/operations/freshness.md, "Reminders"): the registries' admins are mailed
//! when their contacts fall due within the lead time and when they are overdue, the verifiers
//! get a digest; at most one mail per registry and kind, and one digest, per period. The state
//! (when each was last accepted by the relay) is in the store, so a restart sends nothing twice.
//!
//! Synchronous: the server runs [`run`] on a blocking thread every check interval, `ccdir
//! reminders` runs it (or only [`plan`], for a dry run) offline.

mod compose;
pub mod select;
pub mod smtp;

use crate::service::Directory;
use crate::tools::report::{self, by_dn, group_members};
pub use select::Mail;
use time::OffsetDateTime;

/// Something that delivers a mail (the SMTP relay; tests use their own).
pub trait Mailer {
    /// Ok once the relay accepted the message.
    fn send(&self, mail: &Mail) -> Result<(), Refused>;
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// This mail was refused for good (the relay's 5xx answer, an address it cannot take): the
    /// other mails may still go.
    Mail(String),
    /// The relay cannot be reached or is not taking mail now (connection, TLS, time-out, a 4xx
    /// answer): the rest of the check waits for the next one.
    Relay(String),
}

impl Refused {
    fn text(&self) -> &str {
        match self {
            Refused::Mail(e) | Refused::Relay(e) => e,
        }
    }
}

/// The mails due now (the directory's clock), without sending or recording anything.
pub fn plan(dir: &Directory) -> Result<Vec<Mail>, String> {
    let s = State::read(dir, dir.clock.now())?;
    Ok(select::plan(
        &s.report,
        &s.marks,
        &s.digest_to,
        s.lead_days,
        s.period_days,
    ))
}

/// What the selection works on: the report as of now, the recorded state, the digest's
/// recipients.
struct State {
    report: report::Report,
    marks: select::Marks,
    digest_to: Vec<String>,
    lead_days: u32,
    period_days: u32,
}

impl State {
    fn read(dir: &Directory, now: OffsetDateTime) -> Result<State, String> {
        let c = &dir.config.reminders;
        let entries = crate::tools::offline::entries(dir, None, None)?;
        let marks = dir
            .store
            .reminder_marks()
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        let digest_to = match group_members(&by_dn(&entries), &c.digest_group(&dir.config.suffix)) {
            Some(members) => members.into_iter().flat_map(|m| m.mail).collect(),
            None => c.digest_to.clone(),
        };
        Ok(State {
            report: report::build(&entries, now, c.lead_days),
            marks,
            digest_to,
            lead_days: c.lead_days,
            period_days: c.period_days,
        })
    }
}

/// What one check did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub sent: usize,
    pub failed: usize,
    /// Not tried: the relay was unavailable, or the server is stopping.
    pub deferred: usize,
}

/// Send the mails due now (the directory's clock) and record each once the relay accepted it.
/// A mail that fails is logged (subject, recipients, the relay's answer) and tried again at the
/// next check; the digest, sent last, says which registries' mails failed. When the relay is
/// unavailable, or `stop()` says the server is stopping, the rest waits for the next check.
pub fn run(
    dir: &Directory,
    mailer: &dyn Mailer,
    stop: &dyn Fn() -> bool,
) -> Result<Outcome, String> {
    let now = dir.clock.now();
    let s = State::read(dir, now)?;
    let (mails, mut delivery) =
        select::registry_mails(&s.report, &s.marks, s.lead_days, s.period_days);
    let mut out = Outcome::default();
    let mut relay_down = false;
    for m in &mails {
        if relay_down || stop() {
            out.deferred += 1;
            continue;
        }
        if let Err(e) = send(dir, mailer, m, now, &mut out) {
            relay_down = matches!(e, Refused::Relay(_));
            if let Some(d) = m.registry.and_then(|i| delivery.get_mut(i)) {
                *d = select::Delivery::Failed(e.text().to_string());
            }
        }
    }
    let digest = select::digest_mail(
        &s.report,
        &s.marks,
        &s.digest_to,
        &delivery,
        s.lead_days,
        s.period_days,
    );
    if let Some(m) = digest {
        if relay_down || stop() {
            out.deferred += 1;
        } else {
            let _ = send(dir, mailer, &m, now, &mut out);
        }
    }
    Ok(out)
}

/// Send one mail and record it; Err when it was not accepted (logged). A failure to record it
/// after the relay accepted it is logged as an error: the mail will be sent again at the next
/// check.
fn send(
    dir: &Directory,
    mailer: &dyn Mailer,
    m: &Mail,
    now: OffsetDateTime,
    out: &mut Outcome,
) -> Result<(), Refused> {
    let to = m.to.join(", ");
    match mailer.send(m) {
        Ok(()) => {
            out.sent += 1;
            let t = u64::try_from(now.unix_timestamp()).unwrap_or(0);
            match dir.store.mark_reminders(&m.marks, t) {
                Ok(()) => tracing::info!(%to, subject = %m.subject, "reminder sent"),
                Err(e) => tracing::error!(%to, subject = %m.subject, error = %e,
                    "reminder sent but not recorded: it will be sent again"),
            }
            Ok(())
        }
        Err(e) => {
            out.failed += 1;
            match &e {
                Refused::Mail(text) => tracing::warn!(%to, subject = %m.subject, error = %text,
                    "reminder refused; trying again at the next check"),
                Refused::Relay(text) => tracing::warn!(%to, subject = %m.subject, error = %text,
                    "reminder not sent, relay unavailable; this and the rest at the next check"),
            }
            Err(e)
        }
    }
}

/// A mail as the dry run prints it.
pub fn text(from: &str, m: &Mail) -> String {
    format!(
        "From: {from}\nTo: {}\nSubject: {}\n\n{}",
        m.to.join(", "),
        m.subject,
        m.body
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::ManualClock;
    use crate::service::config::Config;
    use std::cell::RefCell;
    use std::sync::Arc;

    const LDIF: &str = "\
dn: associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example
objectClass: organization
objectClass: cctldRegistry
o: ZZ
associatedDomain: zz

dn: uid=ann,associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example
objectClass: inetOrgPerson
uid: ann
cn: Ann
sn: Ann
mail: ann@zz.example

dn: cn=admins,associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example
objectClass: groupOfNames
cn: admins
member: uid=ann,associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example

dn: cn=team,associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
objectClass: cctldContact
cn: team
associatedDomain: zz
cctldVerificationDue: 20261215000000Z

dn: associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example
objectClass: organization
objectClass: cctldRegistry
o: YY
associatedDomain: yy

dn: uid=yan,associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example
objectClass: inetOrgPerson
uid: yan
cn: Yan
sn: Yan
mail: refused@yy.example

dn: cn=admins,associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example
objectClass: groupOfNames
cn: admins
member: uid=yan,associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example

dn: cn=team,associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
objectClass: cctldContact
cn: team
associatedDomain: yy
cctldVerificationDue: 20261215000000Z
";

    /// Records what it is given; refuses mail to refused@; down: refuses everything as
    /// unavailable.
    #[derive(Default)]
    struct Relay(RefCell<Vec<Mail>>, bool);

    impl Mailer for Relay {
        fn send(&self, m: &Mail) -> Result<(), Refused> {
            if self.1 {
                return Err(Refused::Relay("connection refused".into()));
            }
            if m.to.iter().any(|t| t.starts_with("refused@")) {
                return Err(Refused::Mail("550 5.1.1 recipient refused".into()));
            }
            self.0.borrow_mut().push(m.clone());
            Ok(())
        }
    }

    #[test]
    fn accepted_mails_are_recorded_refused_ones_retried_and_named_in_the_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = Config {
            data_dir: tmp.path().to_path_buf(),
            load_sample: false,
            openpgp_keyserver: false,
            ..Config::default()
        };
        c.store.cache_mib = 8;
        c.reminders.digest_to = vec!["v@x.example".into()];
        let clock = Arc::new(ManualClock::new(
            time::macros::datetime!(2027-01-01 08:00 UTC),
        ));
        let dir = crate::app::server::open_directory(&c, clock.clone()).unwrap();
        crate::app::bootstrap::ensure_base(&dir).unwrap();
        crate::tools::import::import_bytes(&dir, "test", LDIF.as_bytes()).unwrap();

        // The dry run: three mails, nothing recorded.
        assert_eq!(plan(&dir).unwrap().len(), 3);
        assert!(dir.store.reminder_marks().unwrap().is_empty());

        // The relay down: one attempt, the rest deferred; stopping: nothing tried.
        let down = Relay(RefCell::default(), true);
        let deferred = Outcome {
            sent: 0,
            failed: 1,
            deferred: 2,
        };
        assert_eq!(run(&dir, &down, &|| false).unwrap(), deferred);
        let stopping = Outcome {
            deferred: 3,
            ..Outcome::default()
        };
        assert_eq!(run(&dir, &down, &|| true).unwrap(), stopping);
        assert!(dir.store.reminder_marks().unwrap().is_empty());

        let relay = Relay::default();
        let first = Outcome {
            sent: 2,
            failed: 1,
            deferred: 0,
        };
        assert_eq!(run(&dir, &relay, &|| false).unwrap(), first);
        let sent = relay.0.borrow().clone();
        assert_eq!(sent[0].to, ["ann@zz.example"]);
        assert_eq!(sent[1].to, ["v@x.example"]);
        assert!(
            sent[1].body.contains(
                ".yy (YY): 1 contact overdue\n    NOT REMINDED: 550 5.1.1 recipient refused \
                 (tried again later)\n.zz (ZZ): 1 contact overdue\n    admins reminded now: \
                 ann@zz.example\n"
            ),
            "{}",
            sent[1].body
        );
        let mut marks: Vec<String> = dir
            .store
            .reminder_marks()
            .unwrap()
            .into_iter()
            .map(|(k, t)| {
                assert_eq!(t, 1798790400);
                k
            })
            .collect();
        marks.sort();
        assert_eq!(
            marks,
            [
                "digest",
                "overdue associateddomain=zz,ou=registries,dc=cctld-ir,dc=example"
            ]
        );
        // The next check: only the refused one, again.
        clock.advance(time::Duration::hours(1));
        let again = Outcome {
            sent: 0,
            failed: 1,
            deferred: 0,
        };
        assert_eq!(run(&dir, &relay, &|| false).unwrap(), again);
        assert_eq!(relay.0.borrow().len(), 2);
    }
}
