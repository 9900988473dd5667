//! Error pages. A page the person may not read answers exactly as one that does not exist
//! (404, the same text), so a URL tells nothing about entries the person may not see.

use super::view::{html, ErrorPage, Layout};
use crate::core::error::LdapError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ldap3_proto::proto::LdapResultCode;

#[derive(Debug)]
pub(crate) enum PortalError {
    /// No such page, or one the person may not read: the same answer.
    NotFound,
    /// A form without its token, or from another site.
    Forbidden(&'static str),
    BadRequest(String),
    /// Something failed on the server; the cause is logged, not shown.
    Internal(String),
}

impl From<LdapError> for PortalError {
    fn from(e: LdapError) -> Self {
        match e.code {
            LdapResultCode::NoSuchObject | LdapResultCode::InsufficentAccessRights => {
                PortalError::NotFound
            }
            LdapResultCode::InvalidDNSyntax => PortalError::NotFound,
            LdapResultCode::TimeLimitExceeded | LdapResultCode::AdminLimitExceeded => {
                PortalError::BadRequest(
                    "The search took too long or matched too much: make it narrower.".into(),
                )
            }
            _ => PortalError::Internal(e.message),
        }
    }
}

impl From<tokio::task::JoinError> for PortalError {
    fn from(e: tokio::task::JoinError) -> Self {
        PortalError::Internal(format!("portal task failed: {e}"))
    }
}

/// The text of the not-found page: the same whether the entry is absent or not readable.
pub(crate) const NOT_FOUND: &str =
    "There is no such page, or you may not read it. Check the address, or search for the ccTLD.";

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            PortalError::NotFound => (StatusCode::NOT_FOUND, "Not found", NOT_FOUND.to_string()),
            PortalError::Forbidden(why) => (StatusCode::FORBIDDEN, "Refused", why.to_string()),
            PortalError::BadRequest(why) => (StatusCode::BAD_REQUEST, "Cannot do that", why),
            PortalError::Internal(cause) => {
                tracing::warn!(error = %cause, "portal request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Server error",
                    "Something went wrong on the server; it is logged. Try again later.".into(),
                )
            }
        };
        html(
            status,
            &ErrorPage {
                layout: Layout::anonymous(),
                status: status.as_u16(),
                heading: heading.into(),
                message,
            },
        )
    }
}

/// The router's fallback: any other path.
pub(crate) async fn not_found() -> Response {
    PortalError::NotFound.into_response()
}
