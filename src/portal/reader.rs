//! Reading the directory as the logged-in person: every page's data comes from LDAP's own
//! search (ops/search), run with that person's identity, so the access rules, the derived
//! verification status, the limits and the read log (`audit.log_reads`) are the ones an LDAP
//! client gets. Blocking: call off the async runtime.

use super::Peer;
use crate::acl::Identity;
use crate::core::dn::Dn;
use crate::core::entry::{Attribute, Entry};
use crate::core::error::LdapError;
use crate::ops::controls::RequestControls;
use crate::ops::search::{search, SearchEnd};
use crate::ops::Session;
use crate::service::Directory;
use ldap3_proto::proto::{
    LdapDerefAliases, LdapFilter, LdapResultCode, LdapSearchRequest, LdapSearchScope,
};
use std::sync::atomic::AtomicBool;

/// The seconds a page's search may take.
const TIME_LIMIT: i32 = 10;

pub(crate) struct Reader<'a> {
    dir: &'a Directory,
    session: Session,
}

/// What a search found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) entries: Vec<Entry>,
    /// More entries matched than the limit.
    pub(crate) more: bool,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(dir: &'a Directory, dn: &Dn, peer: &Peer) -> Reader<'a> {
        let mut session = Session::new(peer.conn, peer.addr, true);
        session.identity = Identity::User(dn.clone());
        Reader { dir, session }
    }

    pub(crate) fn dir(&self) -> &Directory {
        self.dir
    }

    /// Search as the person; at most `limit` entries. A base the person may not see is
    /// noSuchObject, as for a base that does not exist.
    pub(crate) fn search(
        &self,
        base: &str,
        scope: LdapSearchScope,
        filter: LdapFilter,
        attrs: &[&str],
        limit: i32,
    ) -> Result<Found, LdapError> {
        self.search_with(
            base,
            scope,
            filter,
            attrs,
            limit,
            &RequestControls::default(),
        )
    }

    /// [`Reader::search`] with request controls (a server-side sort: the size limit then
    /// applies to the sorted list).
    pub(crate) fn search_with(
        &self,
        base: &str,
        scope: LdapSearchScope,
        filter: LdapFilter,
        attrs: &[&str],
        limit: i32,
        ctrls: &RequestControls,
    ) -> Result<Found, LdapError> {
        let req = LdapSearchRequest {
            base: base.to_string(),
            scope,
            aliases: LdapDerefAliases::Never,
            sizelimit: limit,
            timelimit: TIME_LIMIT,
            typesonly: false,
            filter,
            attrs: attrs.iter().map(|a| a.to_string()).collect(),
        };
        let cancel = AtomicBool::new(false);
        let mut found = Found::default();
        let end = search(self.dir, &self.session, &req, ctrls, &cancel, &mut |e| {
            let mut entry = Entry::new(e.dn);
            entry.attrs = e
                .attributes
                .into_iter()
                .map(|a| Attribute::new(a.atype, a.vals))
                .collect();
            found.entries.push(entry);
            true
        })?;
        match end {
            SearchEnd::Done(res, _) => match res.code {
                LdapResultCode::Success => {}
                LdapResultCode::SizeLimitExceeded => found.more = true,
                code => return Err(LdapError::new(code, res.message)),
            },
            SearchEnd::Abandoned => return Err(LdapError::other("search abandoned")),
        }
        Ok(found)
    }
}

/// `(attr=value)`
pub(crate) fn eq(attr: &str, value: &str) -> LdapFilter {
    LdapFilter::Equality(attr.into(), value.into())
}

/// `(attr=*value*)`
pub(crate) fn contains(attr: &str, value: &str) -> LdapFilter {
    LdapFilter::Substring(
        attr.into(),
        ldap3_proto::proto::LdapSubstringFilter {
            initial: None,
            any: vec![value.into()],
            final_: None,
        },
    )
}
