//! The text of the reminder mails: one per registry for its admins, and the verifiers' digest.
//! Only what the overdue report shows about a contact (name, DN, due date, status, the channel
//! to use next); never passwords or keys.

use crate::tools::report::{day, Item, Registry, Report};

/// How many contacts, in words: "1 contact", "3 contacts".
fn contacts(n: usize) -> String {
    if n == 1 {
        "1 contact".into()
    } else {
        format!("{n} contacts")
    }
}

/// What a registry's mail says in its subject and the digest in its line: "2 contacts overdue,
/// 1 contact falling due within 14 days".
pub(crate) fn counts(overdue: usize, soon: usize, lead_days: u32) -> String {
    let mut parts = Vec::new();
    if overdue > 0 {
        parts.push(format!("{} overdue", contacts(overdue)));
    }
    if soon > 0 {
        parts.push(format!(
            "{} falling due within {lead_days} days",
            contacts(soon)
        ));
    }
    parts.join(", ")
}

fn contact_line(c: &Item) -> String {
    let when = if c.due.is_empty() {
        "never verified".to_string()
    } else if c.overdue {
        format!("due {} ({} days ago)", day(&c.due), c.days_overdue)
    } else {
        format!("due {} (in {} days)", day(&c.due), -c.days_overdue)
    };
    let status = if c.overdue {
        "overdue"
    } else if c.status.is_empty() {
        "-"
    } else {
        &c.status
    };
    format!(
        "  - {}\n    {when}, status {status}\n    last verified {}, next check by {}\n    {}\n",
        c.name,
        day(&c.last_verified),
        c.next_method,
        c.dn
    )
}

/// Subject and body of the mail to one registry's admins.
pub(crate) fn registry_mail(r: &Registry, lead_days: u32, period_days: u32) -> (String, String) {
    let overdue: Vec<&Item> = r.contacts.iter().filter(|c| c.overdue).collect();
    let soon: Vec<&Item> = r.contacts.iter().filter(|c| !c.overdue).collect();
    let subject = format!(
        "[ccdir] .{}: {}",
        r.domain,
        counts(overdue.len(), soon.len(), lead_days)
    );
    let mut b = format!(
        "Dear administrators of .{}{},\n\n\
         the incident-response contacts below are to be verified again: call,\n\
         mail, fax, chat or write to them over the channel given, and record\n\
         the result (ldapmodify, or ask the verification team).\n",
        r.domain,
        if r.name.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.name)
        }
    );
    for (title, list) in [
        (format!("{} overdue:", contacts(overdue.len())), &overdue),
        (
            format!(
                "{} falling due within {lead_days} days:",
                contacts(soon.len())
            ),
            &soon,
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        b.push_str(&format!("\n{title}\n"));
        for c in list.iter() {
            b.push_str(&contact_line(c));
        }
    }
    b.push_str(&format!(
        "\nThis reminder is sent at most once every {period_days} days while\ncontacts are due.\n"
    ));
    (subject, b)
}

/// How the digest says what became of a registry's own mail.
pub(crate) enum Delivery {
    /// Mailed in this run to these addresses.
    Now(Vec<String>),
    /// Mailed within the period already.
    Earlier,
    /// No admin has a mail address.
    NoAddress,
    /// The relay did not take it (its answer).
    Failed(String),
}

/// Subject and body of the verifiers' digest.
pub(crate) fn digest(report: &Report, delivery: &[Delivery], lead_days: u32) -> (String, String) {
    let subject = format!(
        "[ccdir] digest: {} in {} registries",
        counts(report.overdue_count(), report.due_soon_count(), lead_days),
        report.registries.len()
    );
    let mut b = format!(
        "Contacts due for verification as of {}: {}.\n\n",
        day(&crate::core::clock::generalized_time(report.at)),
        counts(report.overdue_count(), report.due_soon_count(), lead_days)
    );
    for (r, d) in report.registries.iter().zip(delivery) {
        let overdue = r.contacts.iter().filter(|c| c.overdue).count();
        let soon = r.contacts.len() - overdue;
        b.push_str(&format!(
            ".{}{}: {}\n",
            r.domain,
            if r.name.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.name)
            },
            counts(overdue, soon, lead_days)
        ));
        b.push_str(&match d {
            Delivery::Now(to) => format!("    admins reminded now: {}\n", to.join(", ")),
            Delivery::Earlier => "    admins reminded earlier in this period\n".to_string(),
            Delivery::NoAddress => {
                "    NOT REMINDED: no admin of this registry has a mail address\n".to_string()
            }
            Delivery::Failed(e) => format!("    NOT REMINDED: {e} (tried again later)\n"),
        });
    }
    (subject, b)
}
