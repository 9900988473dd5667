//! Sending through the configured relay with lettre's blocking SMTP client: STARTTLS required
//! (rustls, the system's CA certificates plus `ca_file`) unless configured `none`, SMTP AUTH
//! when a user is configured. Blocking: the server calls it on a blocking thread.

use super::select::Mail;
use super::{Mailer, Refused};
use crate::service::config::{Reminders, StartTls};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// The relay, as configured.
pub struct Smtp {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Smtp {
    /// Prepare the client (reads the CA and password files; connects only when sending).
    pub fn new(c: &Reminders) -> Result<Smtp, String> {
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| format!("reminders.from {}: {e}", c.from))?;
        let tls = match c.starttls {
            StartTls::None => Tls::None,
            StartTls::Required => {
                let mut p = TlsParameters::builder(c.relay.clone());
                if let Some(f) = &c.ca_file {
                    let pem = std::fs::read(f)
                        .map_err(|e| format!("reminders.ca_file {}: {e}", f.display()))?;
                    let cert = Certificate::from_pem(&pem)
                        .map_err(|e| format!("reminders.ca_file {}: {e}", f.display()))?;
                    p = p.add_root_certificate(cert);
                }
                Tls::Required(
                    p.build_rustls()
                        .map_err(|e| format!("reminders: TLS set-up: {e}"))?,
                )
            }
        };
        let mut b = SmtpTransport::builder_dangerous(c.relay.as_str())
            .port(c.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(60)));
        if let (Some(user), Some(file)) = (&c.user, &c.password_file) {
            // The error names the file, never its content.
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("reminders.password_file {}: {e}", file.display()))?;
            let pw = text.lines().next().unwrap_or("").to_string();
            b = b.credentials(Credentials::new(user.clone(), pw));
        }
        Ok(Smtp {
            transport: b.build(),
            from,
        })
    }
}

/// The message as sent: text/plain UTF-8, marked as automatically generated (RFC 3834).
pub(crate) fn message(from: &Mailbox, m: &Mail) -> Result<Message, String> {
    let mut b = Message::builder()
        .from(from.clone())
        .subject(m.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    if let Some(id) = &m.message_id {
        b = b.message_id(Some(id.clone()));
    }
    for t in &m.to {
        let mb: Mailbox = t.parse().map_err(|e| format!("recipient {t}: {e}"))?;
        b = b.to(mb);
    }
    b.body(m.body.clone())
        .map_err(|e| format!("building the message: {e}"))
}

/// A permanent answer (5xx) refuses this mail; anything else is the relay's problem.
fn refused(e: lettre::transport::smtp::Error) -> Refused {
    if e.is_permanent() {
        Refused::Mail(format!("the relay refused it: {e}"))
    } else {
        Refused::Relay(format!("the relay did not take it: {e}"))
    }
}

impl Mailer for Smtp {
    fn send(&self, m: &Mail) -> Result<(), Refused> {
        let msg = message(&self.from, m).map_err(Refused::Mail)?;
        self.transport.send(&msg).map(|_| ()).map_err(refused)
    }
}

impl Smtp {
    /// Send a message written elsewhere (the roster mail, whose bytes are signed), from the
    /// configured sender to `to`.
    pub fn send_raw(&self, to: &[String], message: &[u8]) -> Result<(), Refused> {
        let mut rcpt = Vec::new();
        for t in to {
            rcpt.push(
                t.parse::<lettre::Address>()
                    .map_err(|e| Refused::Mail(format!("recipient {t}: {e}")))?,
            );
        }
        let env = lettre::address::Envelope::new(Some(self.from.email.clone()), rcpt)
            .map_err(|e| Refused::Mail(format!("envelope: {e}")))?;
        self.transport
            .send_raw(&env, message)
            .map(|_| ())
            .map_err(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_plain_text_marked_automatic() {
        let m = Mail {
            to: vec!["a@zz.example".into(), "b@zz.example".into()],
            subject: "[ccdir] .zz: 1 contact overdue".into(),
            body: "Dear administrators of .zz,\n".into(),
            marks: vec![],
            registry: None,
            message_id: None,
        };
        let from: Mailbox = "ccdir@cctld-ir.example".parse().unwrap();
        let text = String::from_utf8(message(&from, &m).unwrap().formatted()).unwrap();
        for want in [
            "From: ccdir@cctld-ir.example\r\n",
            "To: a@zz.example, b@zz.example\r\n",
            "Subject: [ccdir] .zz: 1 contact overdue\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Auto-Submitted: auto-generated\r\n",
            "Content-Transfer-Encoding: 7bit\r\n",
            "\r\n\r\nDear administrators of .zz,\r\n",
        ] {
            assert!(text.contains(want), "{want}\n{text}");
        }
        let named = Mail {
            message_id: Some("<challenge.00ff12ab34cd56ef@cctld-ir.example>".into()),
            ..m.clone()
        };
        let text = String::from_utf8(message(&from, &named).unwrap().formatted()).unwrap();
        assert!(
            text.contains("Message-ID: <challenge.00ff12ab34cd56ef@cctld-ir.example>\r\n"),
            "{text}"
        );
        let bad = Mail {
            to: vec!["not an address".into()],
            ..m
        };
        assert!(message(&from, &bad)
            .unwrap_err()
            .starts_with("recipient not an address"));
    }

    #[test]
    fn a_missing_password_file_is_named() {
        let c = Reminders {
            relay: "localhost".into(),
            from: "ccdir@cctld-ir.example".into(),
            user: Some("ccdir".into()),
            password_file: Some("/nonexistent/smtp-password".into()),
            ..Reminders::default()
        };
        let e = Smtp::new(&c).err().unwrap();
        assert!(
            e.starts_with("reminders.password_file /nonexistent/smtp-password: "),
            "{e}"
        );
    }
}
