//! The roster mail state (tools/rostermail): which registries got which period's roster, and
//! the contact point each was last mailed to. Written in a write transaction like every change
//! (durable before the call returns); no changelog record, it is not directory data.

use super::error::db;
use super::tables::ROSTER_MAIL;
use super::{Store, StoreError, WriteCtx};
use redb::{ReadableDatabase, ReadableTable};

/// The key prefix of "this period's roster was sent to this registry".
pub(crate) const SENT: &str = "sent ";
/// The key prefix of "the roster last mailed to this registry, by the fingerprint of every
/// member's contact point".
pub(crate) const POINT: &str = "point ";
/// "own <registry>" -> the fingerprint of that registry's own contact point when it was last
/// mailed (to name, in the next mails, whose contact point changed).
pub(crate) const OWN: &str = "own ";

impl Store {
    /// Every recorded row: (key, value).
    pub(crate) fn roster_mail_marks(&self) -> Result<Vec<(String, String)>, StoreError> {
        const WHAT: &str = "reading the roster mail state";
        let txn = self.db.begin_read().map_err(db(WHAT))?;
        let t = txn.open_table(ROSTER_MAIL).map_err(db(WHAT))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db(WHAT))? {
            let (k, v) = row.map_err(db(WHAT))?;
            out.push((k.value().to_string(), v.value().to_string()));
        }
        Ok(out)
    }

    /// Record, in one transaction, that the roster was accepted by the relay: `rows` set
    /// (key, value); `sent` rows of other periods than `period` are removed. Durable on return.
    pub(crate) fn mark_roster_mail(
        &self,
        rows: &[(String, String)],
        period: &str,
    ) -> Result<(), StoreError> {
        self.write(|w: &mut WriteCtx<'_>| w.mark_roster_mail(rows, period))
    }
}

impl WriteCtx<'_> {
    fn mark_roster_mail(
        &mut self,
        rows: &[(String, String)],
        period: &str,
    ) -> Result<(), StoreError> {
        const WHAT: &str = "writing the roster mail state";
        let mut t = self.txn.open_table(ROSTER_MAIL).map_err(db(WHAT))?;
        let keep = format!("{SENT}{period} ");
        let mut old = Vec::new();
        for row in t.range(SENT..).map_err(db(WHAT))? {
            let (k, _) = row.map_err(db(WHAT))?;
            let k = k.value();
            if !k.starts_with(SENT) {
                break;
            }
            if !k.starts_with(&keep) {
                old.push(k.to_string());
            }
        }
        for k in old {
            t.remove(k.as_str()).map_err(db(WHAT))?;
        }
        for (k, v) in rows {
            t.insert(k.as_str(), v.as_str()).map_err(db(WHAT))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::core::schema::Schema;
    use crate::store::index::IndexSpec;
    use crate::store::Store;
    use std::sync::Arc;

    #[test]
    fn marks_survive_a_reopen_and_old_periods_go() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s.redb");
        let open = || {
            Store::open(
                &path,
                Arc::new(Schema::builtin().unwrap()),
                IndexSpec::new(std::iter::empty(), std::iter::empty()),
                8 << 20,
            )
            .unwrap()
        };
        let row = |k: &str, v: &str| (k.to_string(), v.to_string());
        let s = open();
        assert!(s.roster_mail_marks().unwrap().is_empty());
        s.mark_roster_mail(
            &[row("sent 2027-01 a", "10"), row("point a", "f1")],
            "2027-01",
        )
        .unwrap();
        s.mark_roster_mail(&[row("sent 2027-01 b", "11")], "2027-01")
            .unwrap();
        drop(s);
        let s = open();
        s.mark_roster_mail(
            &[row("sent 2027-02 a", "20"), row("point a", "f2")],
            "2027-02",
        )
        .unwrap();
        let mut m = s.roster_mail_marks().unwrap();
        m.sort();
        assert_eq!(m, [row("point a", "f2"), row("sent 2027-02 a", "20")]);
    }
}
