//! The reminder state (tools/reminders): per key ("kind registry-DN", or "digest") the time the
//! last reminder was accepted by the relay. Written in a write transaction like every change
//! (durable before the call returns); no changelog record, it is not directory data.

use super::error::db;
use super::tables::REMINDERS;
use super::{Store, StoreError, WriteCtx};
use redb::{ReadableDatabase, ReadableTable};

impl Store {
    /// Every recorded reminder: (key, Unix seconds).
    pub(crate) fn reminder_marks(&self) -> Result<Vec<(String, u64)>, StoreError> {
        const WHAT: &str = "reading the reminder state";
        let txn = self.db.begin_read().map_err(db(WHAT))?;
        let t = txn.open_table(REMINDERS).map_err(db(WHAT))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db(WHAT))? {
            let (k, v) = row.map_err(db(WHAT))?;
            out.push((k.value().to_string(), v.value()));
        }
        Ok(out)
    }

    /// Record that the reminders with these keys were sent at `unix_secs`; durable on return.
    pub(crate) fn mark_reminders(&self, keys: &[String], unix_secs: u64) -> Result<(), StoreError> {
        self.write(|w: &mut WriteCtx<'_>| w.mark_reminders(keys, unix_secs))
    }
}

impl WriteCtx<'_> {
    fn mark_reminders(&mut self, keys: &[String], unix_secs: u64) -> Result<(), StoreError> {
        const WHAT: &str = "writing the reminder state";
        let mut t = self.txn.open_table(REMINDERS).map_err(db(WHAT))?;
        for k in keys {
            t.insert(k.as_str(), unix_secs).map_err(db(WHAT))?;
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
    fn marks_survive_a_reopen_and_are_replaced() {
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
        let s = open();
        assert!(s.reminder_marks().unwrap().is_empty());
        s.mark_reminders(&["due a".into(), "digest".into()], 10)
            .unwrap();
        s.mark_reminders(&["due a".into()], 20).unwrap();
        drop(s);
        let mut m = open().reminder_marks().unwrap();
        m.sort();
        assert_eq!(m, [("digest".to_string(), 10), ("due a".to_string(), 20)]);
    }
}
