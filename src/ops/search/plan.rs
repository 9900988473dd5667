//! What a search will do before it reads the store: its size and time limits, and how it
//! sorts (server-side sorting, RFC 2891, and the virtual list view that needs it).

use super::super::controls::{sort_response, vlv_response, RequestControls};
use super::super::sort::{self, Sorter};
use super::SearchEnd;
use crate::core::error::LdapError;
use crate::service::Directory;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::LdapResultCode;

/// The sorter a search uses, if any; `Err` is the search's answer when the sort or VLV
/// request cannot be honoured. A non-critical sort the server cannot do leaves its response
/// control in `done_ctrls`, and the results come unsorted.
pub(super) fn sorter(
    dir: &Directory,
    ctrls: &RequestControls,
    done_ctrls: &mut Vec<LdapControl>,
) -> Result<Option<Sorter>, SearchEnd> {
    match &ctrls.sort {
        None => {
            if ctrls.vlv.is_some() {
                return Err(SearchEnd::Done(
                    LdapError::new(
                        LdapResultCode::VirtualListViewError,
                        "the virtual list view control needs the server-side sort control",
                    )
                    .into_result(),
                    vec![vlv_response(0, 0, sort::VLV_SORT_MISSING, None)],
                ));
            }
            Ok(None)
        }
        Some(sreq) => match Sorter::new(sreq, dir) {
            Ok(s) => Ok(Some(s)),
            Err(refusal) => {
                let why = match &refusal.attr {
                    Some(a) => format!("cannot sort by {a} (sort result {})", refusal.code),
                    None => format!("cannot sort (sort result {})", refusal.code),
                };
                let sc = sort_response(refusal.code, refusal.attr.as_deref());
                if sreq.critical {
                    let mut c = vec![sc];
                    if ctrls.vlv.is_some() {
                        c.push(vlv_response(0, 0, refusal.code, None));
                    }
                    return Err(SearchEnd::Done(
                        LdapError::new(LdapResultCode::UnavailableCriticalExtension, why)
                            .into_result(),
                        c,
                    ));
                }
                if ctrls.vlv.is_some() {
                    return Err(SearchEnd::Done(
                        LdapError::new(LdapResultCode::VirtualListViewError, why).into_result(),
                        vec![sc, vlv_response(0, 0, refusal.code, None)],
                    ));
                }
                // Not critical: the results come unsorted, and the response control says why.
                done_ctrls.push(sc);
                Ok(None)
            }
        },
    }
}

/// Limits that apply to this search, after combining the client's values with the server's.
pub(super) fn effective_limit(client: i32, default: u32, max: u32, unlimited: bool) -> Option<u64> {
    let client = if client <= 0 {
        None
    } else {
        Some(client as u64)
    };
    if unlimited {
        return client;
    }
    let v = client.unwrap_or(default as u64);
    let v = if v == 0 { max as u64 } else { v };
    match (v, max as u64) {
        (0, 0) => None,
        (v, 0) => Some(v),
        (0, m) => Some(m),
        (v, m) => Some(v.min(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_combine() {
        assert_eq!(effective_limit(0, 500, 5000, false), Some(500));
        assert_eq!(effective_limit(10, 500, 5000, false), Some(10));
        assert_eq!(effective_limit(10_000, 500, 5000, false), Some(5000));
        assert_eq!(effective_limit(0, 0, 0, false), None);
        assert_eq!(effective_limit(0, 500, 5000, true), None);
        assert_eq!(effective_limit(7, 500, 5000, true), Some(7));
        assert_eq!(effective_limit(-1, 0, 100, false), Some(100));
    }
}
