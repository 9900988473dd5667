//! Request controls: which ones ccdir understands, and the rule for the rest (a critical control
//! we do not support fails the operation with unavailableCriticalExtension, a non-critical one is
//! ignored).

use crate::error::LdapError;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::LdapResultCode;

pub const OID_PAGED_RESULTS: &str = "1.2.840.113556.1.4.319";
pub const OID_MANAGE_DSA_IT: &str = "2.16.840.1.113730.3.4.2";

/// The controls the root DSE advertises.
pub const SUPPORTED: &[&str] = &[OID_PAGED_RESULTS, OID_MANAGE_DSA_IT];

/// What an operation needs to know of its request controls.
#[derive(Debug, Default, Clone)]
pub struct RequestControls {
    /// Simple Paged Results: (page size, cookie).
    pub paged: Option<(i64, Vec<u8>)>,
}

/// Check the controls of a request. `searching` allows the search-only controls.
pub fn parse(ctrls: &[LdapControl], searching: bool) -> Result<RequestControls, LdapError> {
    let mut out = RequestControls::default();
    for c in ctrls {
        match c {
            LdapControl::SimplePagedResults { size, cookie } => {
                if searching {
                    if out.paged.is_some() {
                        return Err(LdapError::protocol("paged results control given twice"));
                    }
                    out.paged = Some((*size, cookie.clone()));
                }
                // Elsewhere it is meaningless; the codec does not tell us its criticality, and
                // OpenLDAP ignores it too.
            }
            LdapControl::ManageDsaIT { .. } => {
                // Tolerated: ccdir holds no referral objects, so it changes nothing.
            }
            LdapControl::Unknown {
                oid, criticality, ..
            } => {
                if *criticality {
                    return Err(unavailable(oid));
                }
            }
            LdapControl::SyncRequest { criticality, .. } => {
                if *criticality {
                    return Err(unavailable(
                        "1.3.6.1.4.1.4203.1.9.1.1 (content synchronization)",
                    ));
                }
            }
            LdapControl::PasswordPolicyRequest { .. } => {}
            LdapControl::SearchOptions { criticality, .. }
            | LdapControl::ShowDeleted { criticality }
            | LdapControl::SdFlags { criticality, .. }
            | LdapControl::ExtendedDn { criticality, .. } => {
                if *criticality {
                    return Err(unavailable("an Active Directory control"));
                }
            }
            LdapControl::ServerSort { .. } => {
                // Server-side sorting is not implemented yet; the codec hides the criticality,
                // and RFC 2891 lets a server return unsorted results for a non-critical request.
            }
            LdapControl::AdDirsync { .. } => {
                return Err(unavailable("1.2.840.113556.1.4.841 (dirsync)"))
            }
            // Response-only controls in a request.
            LdapControl::SyncState { .. }
            | LdapControl::SyncDone { .. }
            | LdapControl::ServerSortResult { .. } => {
                return Err(LdapError::protocol("response control sent in a request"))
            }
        }
    }
    Ok(out)
}

fn unavailable(oid: &str) -> LdapError {
    LdapError::new(
        LdapResultCode::UnavailableCriticalExtension,
        format!("critical control {oid} is not supported"),
    )
}
