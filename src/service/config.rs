//! Configuration: defaults that run with no file, a TOML file (`--config`), then CLI overrides
//! (`--set key=value` for any key, plus dedicated flags). Validated once at start.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the database, certificate and generated admin password live.
    pub data_dir: PathBuf,
    /// The naming context this server holds.
    pub suffix: String,
    /// The administrator entry, created on first start; default `cn=admin,<suffix>`.
    pub admin_dn: Option<String>,
    /// Load the sample directory when the store is new.
    pub load_sample: bool,
    /// Create the OpenPGP keyserver entries GnuPG looks for (`cn=PGPServerInfo` and
    /// `ou=GnuPG Keys` below the suffix) when the store is new.
    pub openpgp_keyserver: bool,
    pub listen: Listen,
    pub tls: Tls,
    pub limits: Limits,
    pub log: Log,
    pub index: Index,
    pub access: Access,
    pub password: Password,
    pub store: StoreConfig,
    pub schema: SchemaConfig,
    pub audit: AuditConfig,
    pub accounts: Accounts,
    pub freshness: Freshness,
    pub checks: Checks,
    pub reminders: Reminders,
    pub replication: Replication,
    pub roster_mail: RosterMail,
    pub portal: Portal,
}

/// The registry portal (docs/portal.md): its listener is `listen.portal`; these are its sessions.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Portal {
    /// A session ends after this many seconds without a request.
    pub session_idle_secs: u64,
    /// A session ends this many seconds after the login, however active.
    pub session_max_secs: u64,
    /// Most sessions held at once (each a few hundred bytes); a login beyond that ends the
    /// session idle the longest.
    pub max_sessions: usize,
    /// The portal's address as people reach it (`https://portal.example`): the base of the
    /// one-time links mailed (e-mail challenges, invitations). Empty: links are not mailed.
    pub public_url: String,
    /// An invitation link expires this many days after it is made.
    pub invitation_days: u32,
    /// An e-mail challenge expires this many days after it is mailed; then the check is
    /// recorded as failed.
    pub challenge_days: u32,
    /// Mail e-mail challenges to the contacts whose next check is by e-mail and who are due
    /// (needs `reminders.enabled` for the relay, `public_url`, and `challenge_recorder`).
    pub challenges: bool,
    /// The DN that records the challenges' verifications (a member of a recorder group, e.g.
    /// `cn=portal,ou=services,...`): the changelog and history name it.
    pub challenge_recorder: String,
}

impl Default for Portal {
    fn default() -> Self {
        Portal {
            session_idle_secs: 30 * 60,
            session_max_secs: 12 * 3600,
            max_sessions: 10_000,
            public_url: String::new(),
            invitation_days: 7,
            challenge_days: 14,
            challenges: false,
            challenge_recorder: String::new(),
        }
    }
}

/// RFC 4533 replication (docs/operations/replication.md).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Replication {
    /// This server's id in its CSNs (0..=4095): unique among the servers that replicate each
    /// other's data.
    pub server_id: u16,
    /// Persistent sync searches (refreshAndPersist consumers) served at once; each holds a
    /// thread while it waits for changes.
    pub max_consumers: usize,
    /// Follow a provider (docs/operations/replication.md, "ccdir as a consumer"): absent, this
    /// server is the writer.
    pub consumer: Option<Consumer>,
}

impl Default for Replication {
    fn default() -> Self {
        Replication {
            server_id: 0,
            max_consumers: 16,
            consumer: None,
        }
    }
}

/// The sync search mode of a consumer.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum SyncMode {
    /// Poll every `interval_secs`.
    #[serde(rename = "refreshOnly")]
    RefreshOnly,
    /// Stay connected; the provider sends each change as it commits.
    #[serde(rename = "refreshAndPersist")]
    RefreshAndPersist,
}

/// ccdir as a consumer of an RFC 4533 provider (ccdir or OpenLDAP's slapd).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Consumer {
    /// `ldaps://host:port` or `ldap://host:port` (StartTLS unless `starttls = false`).
    pub provider: String,
    /// The CA certificate file (PEM) the provider's certificate is checked against; absent:
    /// the system's roots.
    pub ca_file: Option<PathBuf>,
    /// StartTLS on an `ldap://` provider. Off only for a provider on loopback (tests): the
    /// password would cross the network in clear.
    pub starttls: bool,
    /// The identity the consumer binds as (it must read every entry and attribute).
    pub bind_dn: String,
    /// A file holding the bind password (first line).
    pub password_file: PathBuf,
    /// The base of the sync search; default: the suffix.
    pub search_base: Option<String>,
    /// The filter of the sync search.
    pub filter: String,
    /// `refreshAndPersist` (default) or `refreshOnly`.
    #[serde(rename = "type")]
    pub mode: SyncMode,
    /// refreshOnly: seconds between polls.
    pub interval_secs: u64,
    /// Seconds to wait before each reconnection after a failure, in order; the last repeats.
    pub retry_secs: Vec<u64>,
    /// The replica id in the cookie (0..=999), as slapd's `rid`.
    pub rid: u16,
    /// Seconds to wait for the provider to connect, bind and send each message of a refresh;
    /// in the persistent phase, after this long without a message, a keep-alive search must be
    /// answered within it.
    pub timeout_secs: u64,
    /// Client writes get a referral to the provider (true) or unwillingToPerform with the
    /// provider's URL in the message (false).
    pub referrals: bool,
    /// `/readyz` answers 503 while the replication lag is above this many seconds (none: only
    /// until the first refresh is in).
    pub ready_max_lag_secs: Option<u64>,
}

impl Default for Consumer {
    fn default() -> Self {
        Consumer {
            provider: String::new(),
            ca_file: None,
            starttls: true,
            bind_dn: String::new(),
            password_file: PathBuf::new(),
            search_base: None,
            filter: "(objectClass=*)".into(),
            mode: SyncMode::RefreshAndPersist,
            interval_secs: 300,
            retry_secs: vec![1, 5, 30, 60],
            rid: 1,
            timeout_secs: 30,
            referrals: true,
            ready_max_lag_secs: None,
        }
    }
}

impl Consumer {
    pub fn validate(&self) -> Result<(), String> {
        let p = &self.provider;
        if p.is_empty() {
            return Err("replication.consumer.provider: the provider's URL is required (ldaps://host:port or ldap://host:port)".into());
        }
        let rest = p
            .strip_prefix("ldaps://")
            .or_else(|| p.strip_prefix("ldap://"))
            .ok_or_else(|| format!("replication.consumer.provider = {p:?}: expected ldaps://host:port or ldap://host:port"))?;
        if rest.trim_end_matches('/').is_empty() || rest.trim_end_matches('/').contains('/') {
            return Err(format!(
                "replication.consumer.provider = {p:?}: expected ldaps://host:port or ldap://host:port, without a DN"
            ));
        }
        if self.bind_dn.is_empty() {
            return Err(
                "replication.consumer.bind_dn is required (the identity that reads the provider)"
                    .into(),
            );
        }
        if self.password_file.as_os_str().is_empty() {
            return Err(
                "replication.consumer.password_file is required (a file holding the bind password)"
                    .into(),
            );
        }
        if self.rid > 999 {
            return Err("replication.consumer.rid must be 0..=999".into());
        }
        if self.retry_secs.is_empty() || self.retry_secs.contains(&0) {
            return Err("replication.consumer.retry_secs must list at least one wait, each of 1 second or more".into());
        }
        if self.mode == SyncMode::RefreshOnly && self.interval_secs == 0 {
            return Err("replication.consumer.interval_secs must be 1 or more".into());
        }
        if self.timeout_secs == 0 {
            return Err("replication.consumer.timeout_secs must be 1 or more".into());
        }
        if self.filter.trim().is_empty() {
            return Err("replication.consumer.filter must not be empty".into());
        }
        match self.ready_max_lag_secs {
            Some(0) => {
                return Err("replication.consumer.ready_max_lag_secs must be 1 or more".into())
            }
            // Between two polls the lag grows to the interval: the server would not be ready
            // for part of every interval.
            Some(n) if self.mode == SyncMode::RefreshOnly && n <= self.interval_secs => {
                return Err(format!(
                    "replication.consumer.ready_max_lag_secs = {n} must be above interval_secs = {} in refreshOnly mode (the lag grows to the interval between polls)",
                    self.interval_secs
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Accounts (entries with a password) that registry admins create (docs/security.md,
/// "Accounts").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Accounts {
    /// Accounts a registry's admins may have below their registry, pending and approved
    /// together (0: they may create none); directory admins are not limited.
    pub max_per_registry: u32,
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts {
            max_per_registry: 5,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Freshness {
    /// Calendar months from a verification to the next one due (docs/operations/freshness.md).
    pub interval_months: u32,
    /// Days a verifier has to check a new contact, changed contact data or a registry's
    /// confirmation before the contact reads overdue.
    pub pending_days: u32,
    /// `ccdir report overdue` also lists contacts due within this many days.
    pub warn_days: u32,
    /// The groups whose members may record a verification (method, result, time). None: the
    /// verifiers group, `cn=verifiers,ou=groups,<suffix>`. The directory's administrator
    /// (`admin_dn`) always may.
    pub recorders: Option<Vec<String>>,
}

impl Default for Freshness {
    fn default() -> Self {
        Freshness {
            interval_months: 3,
            pending_days: 14,
            warn_days: 14,
            recorders: None,
        }
    }
}

impl Freshness {
    /// The recorder groups' DNs as configured (the default spelled out for `suffix`).
    pub fn recorder_groups(&self, suffix: &str) -> Vec<String> {
        match &self.recorders {
            Some(r) => r.clone(),
            None => vec![format!(
                "{},{},{suffix}",
                crate::core::dit::VERIFIERS_RDN,
                crate::core::dit::GROUPS_RDN
            )],
        }
    }
}

/// How reminders reach the SMTP relay.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StartTls {
    /// STARTTLS with a verified certificate, or nothing is sent.
    Required,
    /// Plain SMTP: only for a relay on the same host or a test relay (logged as a warning).
    None,
}

/// Reminder mails to the registries' admins and a digest to the verifiers
/// (docs/operations/freshness.md, "Reminders"). Off until configured.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Reminders {
    /// Run the check in the server (and allow `ccdir reminders --send`).
    pub enabled: bool,
    /// The SMTP relay's host name (the name its certificate is checked against).
    pub relay: String,
    /// The relay's submission port.
    pub port: u16,
    /// `required` (default) or `none`.
    pub starttls: StartTls,
    /// PEM file with one extra CA certificate the relay's certificate may chain to (besides the
    /// system's CA certificates).
    pub ca_file: Option<PathBuf>,
    /// SMTP AUTH user (with `password_file`).
    pub user: Option<String>,
    /// File holding the SMTP AUTH password (first line); read at each check, never logged.
    pub password_file: Option<PathBuf>,
    /// The sender address (From and envelope).
    pub from: String,
    /// Contacts due within this many days are announced before they become overdue.
    pub lead_days: u32,
    /// At most one mail per registry and kind (due soon, overdue) and one digest per this many
    /// days.
    pub period_days: u32,
    /// Seconds between two checks in the server.
    pub check_interval_secs: u64,
    /// The group whose members' `mail` get the digest; default `cn=verifiers,ou=groups,<suffix>`.
    pub digest_group: Option<String>,
    /// Digest recipients when the group does not exist.
    pub digest_to: Vec<String>,
}

impl Default for Reminders {
    fn default() -> Self {
        Reminders {
            enabled: false,
            relay: String::new(),
            port: 587,
            starttls: StartTls::Required,
            ca_file: None,
            user: None,
            password_file: None,
            from: String::new(),
            lead_days: 14,
            period_days: 7,
            check_interval_secs: 3600,
            digest_group: None,
            digest_to: Vec::new(),
        }
    }
}

impl Reminders {
    /// The digest group's DN.
    pub fn digest_group(&self, suffix: &str) -> String {
        self.digest_group
            .clone()
            .unwrap_or_else(|| format!("cn=verifiers,ou=groups,{suffix}"))
    }

    /// Check the section (what is needed to send only when enabled).
    pub fn validate(&self) -> Result<(), String> {
        let mail_ok =
            |a: &str| email_address::EmailAddress::is_valid(a) && !a.contains(['<', '>', ' ']);
        if !self.from.is_empty() && !mail_ok(&self.from) {
            return Err(format!(
                "reminders.from: \"{}\" is not a mail address",
                self.from
            ));
        }
        for a in &self.digest_to {
            if !mail_ok(a) {
                return Err(format!(
                    "reminders.digest_to: \"{a}\" is not a mail address"
                ));
            }
        }
        if self.period_days == 0 || self.period_days > 366 {
            return Err("reminders.period_days must be 1..=366".into());
        }
        if self.lead_days > 366 {
            return Err("reminders.lead_days must be 0..=366".into());
        }
        if self.check_interval_secs == 0 {
            return Err("reminders.check_interval_secs must be at least 1".into());
        }
        if self.user.is_some() != self.password_file.is_some() {
            return Err("reminders.user and reminders.password_file must be given together".into());
        }
        if self.user.is_some() && self.starttls == StartTls::None {
            return Err(
                "reminders: SMTP AUTH needs starttls = \"required\" (the password would cross the network in clear)"
                    .into(),
            );
        }
        if self.enabled {
            if self.relay.trim().is_empty() {
                return Err(
                    "reminders.enabled needs reminders.relay (the SMTP relay's host name)".into(),
                );
            }
            if self.port == 0 {
                return Err("reminders.port must be 1..=65535".into());
            }
            if self.from.is_empty() {
                return Err("reminders.enabled needs reminders.from (the sender address)".into());
            }
        }
        Ok(())
    }
}

/// The roster mailed to every member registry's contact point, signed and, where the directory
/// holds the recipient's OpenPGP key, encrypted (docs/operations/roster-mail.md). Sent through
/// the relay of `[reminders]`. Off until configured.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RosterMail {
    /// Run the check in the server (and allow `ccdir roster-mail --send`).
    pub enabled: bool,
    /// One roster per registry every this many calendar months (1: every month); and one more
    /// whenever a registry's contact point changes.
    pub interval_months: u32,
    /// Seconds between two checks in the server.
    pub check_interval_secs: u64,
    /// The sender address; default `reminders.from`.
    pub from: Option<String>,
    /// The GnuPG home holding the signing key (and nothing else is needed there).
    pub gpg_home: Option<PathBuf>,
    /// The signing key: its fingerprint (or another name gpg's --local-user takes).
    pub signing_key: String,
    /// File holding the signing key's passphrase (first line), if it has one; never logged.
    pub passphrase_file: Option<PathBuf>,
}

impl Default for RosterMail {
    fn default() -> Self {
        RosterMail {
            enabled: false,
            interval_months: 1,
            check_interval_secs: 3600,
            from: None,
            gpg_home: None,
            signing_key: String::new(),
            passphrase_file: None,
        }
    }
}

impl RosterMail {
    /// The sender address as configured (or the reminders' one).
    pub fn sender<'a>(&'a self, reminders: &'a Reminders) -> &'a str {
        self.from.as_deref().unwrap_or(&reminders.from)
    }

    /// Check the section (what is needed to send only when enabled; gpg and the key are checked
    /// when the server starts).
    pub fn validate(&self, reminders: &Reminders) -> Result<(), String> {
        if self.interval_months == 0 || self.interval_months > 12 {
            return Err("roster_mail.interval_months must be 1..=12".into());
        }
        if self.check_interval_secs == 0 {
            return Err("roster_mail.check_interval_secs must be at least 1".into());
        }
        if let Some(f) = &self.from {
            if !email_address::EmailAddress::is_valid(f) || f.contains(['<', '>', ' ']) {
                return Err(format!("roster_mail.from: \"{f}\" is not a mail address"));
            }
        }
        if self.enabled {
            if reminders.relay.trim().is_empty() {
                return Err(
                    "roster_mail.enabled needs reminders.relay (the SMTP relay's host name)".into(),
                );
            }
            if self.sender(reminders).is_empty() {
                return Err(
                    "roster_mail.enabled needs roster_mail.from or reminders.from (the sender address)"
                        .into(),
                );
            }
            if self.gpg_home.is_none() || self.signing_key.trim().is_empty() {
                return Err(
                    "roster_mail.enabled needs roster_mail.gpg_home and roster_mail.signing_key (the roster is always signed)"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// The content checks on written values (docs/schema.md, "Checked values").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Checks {
    /// Contact roles (`cctldContactRole`) allowed besides the schema's five.
    pub extra_roles: Vec<String>,
    /// URI schemes allowed in `cctldMessengerURI`.
    pub messenger_schemes: Vec<String>,
    /// URI schemes allowed in `cctldKeyURI`.
    pub key_uri_schemes: Vec<String>,
}

impl Default for Checks {
    fn default() -> Self {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        Checks {
            extra_roles: Vec::new(),
            messenger_schemes: v(&[
                "xmpp", "matrix", "sip", "sips", "tel", "https", "signal", "irc", "ircs", "mailto",
            ]),
            key_uri_schemes: v(&[
                "https",
                "http",
                "hkps",
                "hkp",
                "ldap",
                "ldaps",
                "openpgp4fpr",
            ]),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// `stdout`, `none`, or a file to append JSON lines to.
    pub output: String,
    /// Also log every entry of personal data (below `ou=registries`) a search or compare
    /// returns: who read which entry, never values.
    pub log_reads: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            output: "stdout".into(),
            log_reads: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SchemaConfig {
    /// Extra schema files (OpenLDAP format), loaded after the built-in ones, in this order.
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Page cache of the database, in MiB.
    pub cache_mib: usize,
    /// Page cache of `ccdir import`, in MiB: a load writes mostly new pages and rereads few, so
    /// it needs less than the server.
    pub import_cache_mib: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            cache_mib: 256,
            import_cache_mib: 96,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Listen {
    /// Plain LDAP listeners (StartTLS available on each).
    pub ldap: Vec<String>,
    /// LDAPS listeners (TLS from the first byte).
    pub ldaps: Vec<String>,
    /// The HTTP listener for /metrics, /healthz and /readyz (None: off).
    pub metrics: Option<String>,
    /// The registry portal's HTTPS listener (None: off; docs/portal.md). It serves the
    /// certificate LDAPS serves.
    pub portal: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Tls {
    /// PEM certificate chain; with `key`. Default: a certificate generated in the data dir.
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// Extra host names for the generated certificate (localhost, 127.0.0.1 and ::1 always).
    pub generated_names: Vec<String>,
    /// PEM CA certificates that sign client certificates: enables SASL EXTERNAL binds, where
    /// the client certificate is matched against the entries' `userCertificate` values.
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request PDU accepted, in bytes.
    pub max_pdu_bytes: usize,
    /// Deepest BER nesting accepted in a request.
    pub max_ber_depth: usize,
    pub max_filter_depth: usize,
    pub max_filter_elements: usize,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Requests a connection may have outstanding at once.
    pub max_ops_per_connection: usize,
    /// Threads that run operations (all connections together); more requests wait for one.
    pub operation_threads: usize,
    /// Seconds a connection may sit idle (no request, nothing in progress) before it is closed.
    pub idle_timeout_secs: u64,
    pub tls_handshake_timeout_secs: u64,
    /// Seconds a response may wait for a client that does not read before the connection closes.
    pub write_timeout_secs: u64,
    /// Entries returned when the client sets no size limit; 0 = unlimited.
    pub size_limit: u32,
    /// Most entries any search returns (the admin is not limited); 0 = unlimited.
    pub size_limit_max: u32,
    /// Seconds a search may run when the client sets no limit; 0 = unlimited.
    pub time_limit: u32,
    /// Longest any search may run, seconds (the admin is not limited); 0 = unlimited.
    pub time_limit_max: u32,
    /// Seconds in-flight operations get to finish at shutdown.
    pub shutdown_grace_secs: u64,
    /// Most matching entries a sorted or virtual-list-view search may order (more:
    /// adminLimitExceeded). Each costs its sort keys and an id in memory while the search runs.
    pub sort_max_entries: usize,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `ccdir=debug`.
    pub level: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Index {
    /// Attributes with an equality index (also used for presence and ordering).
    pub eq: Vec<String>,
    /// Attributes with a substring (3-gram) index.
    pub sub: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Access {
    /// Access rules, first match wins (docs/security.md). None: the shipped default policy.
    pub rules: Option<Vec<crate::acl::rules::RuleConfig>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Password {
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id iterations.
    pub argon2_iterations: u32,
    /// argon2id parallelism.
    pub argon2_parallelism: u32,
    /// Length of passwords generated by the Password Modify operation.
    pub generated_length: usize,
    /// Refuse simple binds and password changes with a password on connections without TLS
    /// (confidentialityRequired).
    pub require_tls: bool,
    /// Shortest password accepted when a client sets one.
    pub min_length: usize,
    /// Failed binds within `lockout_window_secs` that lock an account (0: no lockout).
    pub lockout_failures: usize,
    pub lockout_window_secs: u64,
    /// How long a locked account stays locked.
    pub lockout_secs: u64,
    /// Failed binds per minute from one address before its binds are refused (0: no limit).
    pub failed_binds_per_ip_per_minute: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("ccdir-data"),
            suffix: "dc=cctld-ir,dc=example".into(),
            admin_dn: None,
            load_sample: true,
            openpgp_keyserver: true,
            listen: Listen::default(),
            tls: Tls::default(),
            limits: Limits::default(),
            log: Log::default(),
            index: Index::default(),
            access: Access::default(),
            password: Password::default(),
            store: StoreConfig::default(),
            schema: SchemaConfig::default(),
            audit: AuditConfig::default(),
            accounts: Accounts::default(),
            freshness: Freshness::default(),
            checks: Checks::default(),
            reminders: Reminders::default(),
            replication: Replication::default(),
            roster_mail: RosterMail::default(),
            portal: Portal::default(),
        }
    }
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            ldap: vec!["127.0.0.1:3389".into()],
            ldaps: vec!["127.0.0.1:6636".into()],
            metrics: None,
            portal: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pdu_bytes: 2 * 1024 * 1024,
            max_ber_depth: 64,
            max_filter_depth: 32,
            max_filter_elements: 1024,
            max_connections: 4096,
            max_connections_per_ip: 256,
            max_ops_per_connection: 32,
            operation_threads: 64,
            idle_timeout_secs: 900,
            tls_handshake_timeout_secs: 10,
            write_timeout_secs: 60,
            size_limit: 500,
            size_limit_max: 5000,
            sort_max_entries: 250_000,
            time_limit: 60,
            time_limit_max: 3600,
            shutdown_grace_secs: 10,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

impl Default for Index {
    fn default() -> Self {
        let eq = [
            "objectClass",
            "uid",
            "cn",
            "sn",
            "givenName",
            "mail",
            "displayName",
            "o",
            "ou",
            "associatedDomain",
            "telephoneNumber",
            "member",
            "uniqueMember",
            "roleOccupant",
            "seeAlso",
            "cctldContactPoint",
            "cctldSubstitute",
            "entryUUID",
            "userCertificate",
            "cctldVerificationDue",
            "cctldAvailable247",
            "cctldAccountStatus",
            // The verification records of a month (the portal's verifiers' queue and plan).
            "createTimestamp",
        ];
        let sub = [
            "cn",
            "sn",
            "givenName",
            "mail",
            "displayName",
            "o",
            "associatedDomain",
            "telephoneNumber",
        ];
        Index {
            eq: eq.iter().map(|s| s.to_string()).collect(),
            sub: sub.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Default for Password {
    fn default() -> Self {
        Password {
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            generated_length: 20,
            require_tls: true,
            min_length: 8,
            lockout_failures: 5,
            lockout_window_secs: 300,
            lockout_secs: 300,
            failed_binds_per_ip_per_minute: 60,
        }
    }
}

impl Config {
    /// Read a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Apply `key=value` overrides (dotted keys, TOML values; bare words are taken as strings).
    pub fn with_overrides(self, sets: &[String]) -> Result<Config, String> {
        if sets.is_empty() {
            return Ok(self);
        }
        let mut v = toml::Value::try_from(&self).map_err(|e| e.to_string())?;
        for s in sets {
            let (key, raw) = s
                .split_once('=')
                .ok_or_else(|| format!("--set {s}: expected key=value"))?;
            let value: toml::Value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
                Ok(mut t) => t
                    .remove("v")
                    .unwrap_or(toml::Value::String(raw.to_string())),
                Err(_) => toml::Value::String(raw.to_string()),
            };
            let mut cur = &mut v;
            let parts: Vec<&str> = key.trim().split('.').collect();
            for (i, p) in parts.iter().enumerate() {
                let table = cur
                    .as_table_mut()
                    .ok_or_else(|| format!("--set {key}: {p} is not a section"))?;
                if i + 1 == parts.len() {
                    table.insert(p.to_string(), value.clone());
                    break;
                }
                cur = table
                    .entry(p.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            }
        }
        v.try_into()
            .map_err(|e: toml::de::Error| format!("--set: {e}"))
    }

    /// Check everything that can be checked without starting.
    pub fn validate(&self) -> Result<(), String> {
        for a in self.listen.ldap.iter().chain(&self.listen.ldaps) {
            a.parse::<SocketAddr>().map_err(|_| {
                format!("listen address \"{a}\" is not host:port (e.g. 127.0.0.1:3389)")
            })?;
        }
        if self.listen.ldap.is_empty() && self.listen.ldaps.is_empty() {
            return Err("no listen address configured".into());
        }
        if let Some(a) = &self.listen.portal {
            a.parse::<SocketAddr>().map_err(|_| {
                format!("listen.portal \"{a}\" is not host:port (e.g. 0.0.0.0:8443)")
            })?;
        }
        let p = &self.portal;
        if p.session_idle_secs == 0 || p.session_max_secs == 0 || p.max_sessions == 0 {
            return Err(
                "portal.session_idle_secs, portal.session_max_secs and portal.max_sessions must be positive"
                    .into(),
            );
        }
        if p.session_idle_secs > p.session_max_secs {
            return Err("portal.session_idle_secs must not exceed portal.session_max_secs".into());
        }
        if p.invitation_days == 0 || p.challenge_days == 0 {
            return Err("portal.invitation_days and portal.challenge_days must be positive".into());
        }
        if !p.public_url.is_empty() && !p.public_url.starts_with("https://") {
            return Err(format!(
                "portal.public_url \"{}\" must start with https://",
                p.public_url
            ));
        }
        if p.challenges && (p.public_url.is_empty() || p.challenge_recorder.is_empty()) {
            return Err(
                "portal.challenges needs portal.public_url and portal.challenge_recorder".into(),
            );
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err("tls.cert and tls.key must be given together".into());
        }
        let l = &self.limits;
        if l.max_pdu_bytes < 1024 {
            return Err("limits.max_pdu_bytes must be at least 1024".into());
        }
        for (name, v) in [
            ("limits.max_ber_depth", l.max_ber_depth),
            ("limits.max_filter_depth", l.max_filter_depth),
            ("limits.max_filter_elements", l.max_filter_elements),
            ("limits.max_connections", l.max_connections),
            ("limits.max_connections_per_ip", l.max_connections_per_ip),
            ("limits.max_ops_per_connection", l.max_ops_per_connection),
            ("limits.operation_threads", l.operation_threads),
        ] {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.password.argon2_memory_kib < 8 * self.password.argon2_parallelism.max(1)
            || self.password.argon2_iterations == 0
            || self.password.argon2_parallelism == 0
        {
            return Err("password.argon2_* parameters are out of range".into());
        }
        if self.store.cache_mib < 8 {
            return Err("store.cache_mib must be at least 8".into());
        }
        if self.store.import_cache_mib < 8 {
            return Err("store.import_cache_mib must be at least 8".into());
        }
        if self.password.generated_length < 8 || self.password.generated_length > 128 {
            return Err("password.generated_length must be 8..=128".into());
        }
        // The status a client reads is derived from the due date at read time (overdue), so
        // an index of the stored values would answer `(cctldVerificationStatus=overdue)` wrongly.
        if self
            .index
            .eq
            .iter()
            .chain(&self.index.sub)
            .any(|a| a.eq_ignore_ascii_case("cctldVerificationStatus"))
        {
            return Err(
                "index: cctldVerificationStatus is derived when read (overdue after the due date) and cannot be indexed; index cctldVerificationDue instead".into(),
            );
        }
        if self.freshness.interval_months == 0 || self.freshness.interval_months > 60 {
            return Err("freshness.interval_months must be 1..=60".into());
        }
        if self.freshness.pending_days > 366 {
            return Err("freshness.pending_days must be 0..=366".into());
        }
        self.reminders.validate()?;
        if self.replication.server_id > crate::core::csn::MAX_SID {
            return Err("replication.server_id must be 0..=4095".into());
        }
        if self.replication.max_consumers >= self.limits.operation_threads {
            return Err(
                "replication.max_consumers must be below limits.operation_threads (each persistent sync search holds an operation thread)".into(),
            );
        }
        self.roster_mail.validate(&self.reminders)?;
        if let Some(c) = &self.replication.consumer {
            c.validate()?;
        }
        Ok(())
    }

    pub fn admin_dn(&self) -> String {
        self.admin_dn
            .clone()
            .unwrap_or_else(|| format!("cn=admin,{}", self.suffix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.admin_dn(), "cn=admin,dc=cctld-ir,dc=example");
    }

    #[test]
    fn toml_and_overrides() {
        let c = Config::from_toml("suffix = \"dc=x\"\n[limits]\nmax_connections = 5\n").unwrap();
        assert_eq!(c.suffix, "dc=x");
        assert_eq!(c.limits.max_connections, 5);
        assert_eq!(c.limits.max_ops_per_connection, 32);
        let c = c
            .with_overrides(&[
                "limits.size_limit=7".into(),
                "log.format=json".into(),
                "data_dir=/tmp/x".into(),
            ])
            .unwrap();
        assert_eq!(c.limits.size_limit, 7);
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert!(Config::from_toml("nosuch = 1").is_err());
        assert!(Config::default()
            .with_overrides(&["limits.size_limit=abc".into()])
            .is_err());
        let mut bad = Config::default();
        bad.listen.ldap = vec!["nothost".into()];
        assert!(bad.validate().is_err());
        for (key, msg) in [
            (
                "store.import_cache_mib=4",
                "store.import_cache_mib must be at least 8",
            ),
            (
                "limits.operation_threads=0",
                "limits.operation_threads must be at least 1",
            ),
        ] {
            let c = Config::default().with_overrides(&[key.into()]).unwrap();
            assert_eq!(c.validate().unwrap_err(), msg);
        }
    }

    #[test]
    fn roster_mail_is_off_by_default_and_needs_relay_sender_and_key() {
        let c = Config::default();
        assert!(!c.roster_mail.enabled);
        assert_eq!(c.roster_mail.interval_months, 1);
        let with = |v: &[&str]| {
            let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            Config::default().with_overrides(&v).unwrap().validate()
        };
        assert_eq!(
            with(&["roster_mail.enabled=true"]).unwrap_err(),
            "roster_mail.enabled needs reminders.relay (the SMTP relay's host name)"
        );
        let relay = [
            "roster_mail.enabled=true",
            "reminders.relay=smtp.example.org",
        ];
        assert_eq!(
            with(&relay).unwrap_err(),
            "roster_mail.enabled needs roster_mail.from or reminders.from (the sender address)"
        );
        let sender = [&relay[..], &["roster_mail.from=roster@example.org"]].concat();
        assert!(with(&sender)
            .unwrap_err()
            .starts_with("roster_mail.enabled needs roster_mail.gpg_home"));
        let full = [
            &sender[..],
            &[
                "roster_mail.gpg_home=/etc/ccdir/gnupg",
                "roster_mail.signing_key=ABCD",
            ],
        ]
        .concat();
        with(&full).unwrap();
        assert_eq!(
            with(&["roster_mail.interval_months=0"]).unwrap_err(),
            "roster_mail.interval_months must be 1..=12"
        );
        assert!(Config::from_toml("[roster_mail]\nkey = \"x\"\n").is_err());
    }

    #[test]
    fn reminders_are_off_by_default_and_checked_when_on() {
        let c = Config::default();
        assert!(!c.reminders.enabled);
        assert_eq!(c.reminders.starttls, StartTls::Required);
        assert_eq!(
            c.reminders.digest_group(&c.suffix),
            "cn=verifiers,ou=groups,dc=cctld-ir,dc=example"
        );
        let on = |sets: &[&str]| {
            let mut v: Vec<String> = vec!["reminders.enabled=true".into()];
            v.extend(sets.iter().map(|s| s.to_string()));
            Config::default().with_overrides(&v).unwrap().validate()
        };
        assert_eq!(
            on(&["reminders.from=ccdir@example.org"]).unwrap_err(),
            "reminders.enabled needs reminders.relay (the SMTP relay's host name)"
        );
        assert_eq!(
            on(&["reminders.relay=smtp.example.org"]).unwrap_err(),
            "reminders.enabled needs reminders.from (the sender address)"
        );
        let ok = [
            "reminders.relay=smtp.example.org",
            "reminders.from=ccdir@example.org",
        ];
        on(&ok).unwrap();
        let with = |extra: &str| {
            let mut v = ok.to_vec();
            v.push(extra);
            on(&v)
        };
        assert_eq!(
            with("reminders.from=not an address").unwrap_err(),
            "reminders.from: \"not an address\" is not a mail address"
        );
        assert_eq!(
            with("reminders.period_days=0").unwrap_err(),
            "reminders.period_days must be 1..=366"
        );
        assert_eq!(
            with("reminders.user=ccdir").unwrap_err(),
            "reminders.user and reminders.password_file must be given together"
        );
        let mut c = Config::default()
            .with_overrides(&[
                "reminders.enabled=true".into(),
                "reminders.relay=localhost".into(),
                "reminders.from=ccdir@example.org".into(),
                "reminders.starttls=none".into(),
                "reminders.user=ccdir".into(),
                "reminders.password_file=/nonexistent".into(),
            ])
            .unwrap();
        assert!(c
            .validate()
            .unwrap_err()
            .contains("SMTP AUTH needs starttls"));
        c.reminders.user = None;
        c.reminders.password_file = None;
        c.validate().unwrap();
        assert!(Config::from_toml("[reminders]\nstarttls = \"maybe\"\n").is_err());
        assert!(Config::from_toml("[reminders]\nrelay_host = \"x\"\n").is_err());
    }

    #[test]
    fn portal_settings_are_checked() {
        let mut c = Config::default();
        c.listen.portal = Some("0.0.0.0:8443".into());
        c.validate().unwrap();
        c.listen.portal = Some("portal".into());
        assert!(c.validate().unwrap_err().contains("listen.portal"));
        let mut c = Config::default();
        c.portal.session_idle_secs = c.portal.session_max_secs + 1;
        assert!(c.validate().is_err());
        c.portal.session_idle_secs = 0;
        assert!(c.validate().is_err());
        let c = Config::from_toml("[portal]\nmax_sessions = 5\n").unwrap();
        assert_eq!(c.portal.max_sessions, 5);
        assert!(Config::from_toml("[portal]\nsessions = 5\n").is_err());
    }

    #[test]
    fn ready_max_lag_secs_is_above_the_poll_interval() {
        let base = "[replication.consumer]\nprovider = \"ldaps://a:636\"\nbind_dn = \"cn=r\"\npassword_file = \"/p\"\n";
        let c = Config::from_toml(&format!("{base}ready_max_lag_secs = 60\n")).unwrap();
        assert_eq!(
            c.replication.consumer.as_ref().unwrap().ready_max_lag_secs,
            Some(60)
        );
        c.validate().unwrap();
        let c = Config::from_toml(&format!("{base}ready_max_lag_secs = 0\n")).unwrap();
        assert!(c.validate().is_err());
        let c = Config::from_toml(&format!(
            "{base}type = \"refreshOnly\"\ninterval_secs = 300\nready_max_lag_secs = 300\n"
        ))
        .unwrap();
        let e = c.validate().unwrap_err();
        assert!(e.contains("interval_secs"), "{e}");
        let c = Config::from_toml(&format!(
            "{base}type = \"refreshOnly\"\ninterval_secs = 300\nready_max_lag_secs = 400\n"
        ))
        .unwrap();
        c.validate().unwrap();
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../../ccdir.example.toml");
        let c = Config::from_toml(text).unwrap();
        c.validate().unwrap();
    }
}
