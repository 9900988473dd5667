//! The pages' data for the askama templates in templates/portal/ (HTML: every value is
//! escaped when rendered), and rendering them.

use super::assets;
use super::contact::RegistryView;
use super::session::Nav;
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// What the layout (templates/portal/base.html) needs.
pub(crate) struct Layout {
    pub(crate) css: String,
    pub(crate) htmx: String,
    pub(crate) user: Option<UserNav>,
}

/// The logged-in person in the page header, and the token of its logout form.
pub(crate) struct UserNav {
    pub(crate) name: String,
    pub(crate) csrf: String,
    /// Links to the verifiers' queue and the admin pages, for those who may use them.
    pub(crate) nav: Nav,
}

impl Layout {
    pub(crate) fn anonymous() -> Layout {
        Layout {
            css: assets::css(),
            htmx: assets::htmx(),
            user: None,
        }
    }

    pub(crate) fn user(name: &str, csrf: &str, nav: Nav) -> Layout {
        Layout {
            user: Some(UserNav {
                name: name.to_string(),
                csrf: csrf.to_string(),
                nav,
            }),
            ..Layout::anonymous()
        }
    }
}

#[derive(Template)]
#[template(path = "portal/login.html")]
pub(crate) struct LoginPage {
    pub(crate) layout: Layout,
    pub(crate) csrf: String,
    pub(crate) next: String,
    pub(crate) name: String,
    pub(crate) error: String,
    /// The connection presented a client certificate: offer the login with it.
    pub(crate) cert: bool,
}

/// A registry found by a search.
pub(crate) struct RegistryHit {
    pub(crate) tld: String,
    pub(crate) label: String,
    pub(crate) name: String,
    pub(crate) country: String,
}

/// A contact found by a search.
pub(crate) struct ContactHit {
    pub(crate) tld: String,
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) matched: String,
}

#[derive(Template)]
#[template(path = "portal/search.html")]
pub(crate) struct SearchPage {
    pub(crate) layout: Layout,
    pub(crate) q: String,
    pub(crate) searched: bool,
    pub(crate) registries: Vec<RegistryHit>,
    pub(crate) contacts: Vec<ContactHit>,
    pub(crate) more: bool,
    pub(crate) message: String,
}

#[derive(Template)]
#[template(path = "portal/cctld.html")]
pub(crate) struct CctldPage {
    pub(crate) layout: Layout,
    pub(crate) reg: RegistryView,
    pub(crate) now_utc: String,
    /// The uuids of the contacts the person may edit.
    pub(crate) editable: Vec<String>,
    /// The uuids of the contacts the person may remove.
    pub(crate) removable: Vec<String>,
    /// The person may add a contact to the registry.
    pub(crate) can_add: bool,
    /// The person may read the registry's verification history.
    pub(crate) history: bool,
    pub(crate) csrf: String,
}

/// One field of the contact edit form.
pub(crate) struct EditField {
    pub(crate) attr: String,
    pub(crate) label: String,
    pub(crate) multi: bool,
    pub(crate) value: String,
    /// The server's message about this attribute, when the save was refused.
    pub(crate) error: String,
}

#[derive(Template)]
#[template(path = "portal/edit.html")]
pub(crate) struct EditPage {
    pub(crate) layout: Layout,
    pub(crate) tld: String,
    pub(crate) uuid: String,
    pub(crate) name: String,
    pub(crate) csrf: String,
    pub(crate) fields: Vec<EditField>,
    pub(crate) message: String,
}

#[derive(Template)]
#[template(path = "portal/error.html")]
pub(crate) struct ErrorPage {
    pub(crate) layout: Layout,
    pub(crate) status: u16,
    pub(crate) heading: String,
    pub(crate) message: String,
}

/// A rendered page with its status.
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => {
            let mut r = (status, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Err(e) => {
            tracing::warn!(error = %e, "portal page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}
