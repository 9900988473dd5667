//! The `ccdir` command: serve, hash-password, check-config.

#![forbid(unsafe_code)]
// No unwrap, expect or panic outside tests: errors are returned (tests may unwrap).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use ccdir::service::config::{Config, LogFormat};
use ccdir::tools::run::ToolRequest;
use ccdir::Server;
use clap::{Args, Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: see docs/ARCHITECTURE.md (memory).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ccdir",
    version,
    about = "LDAPv3 directory server for ccTLD incident-response contacts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (defaults: ldap://127.0.0.1:3389 with StartTLS, ldaps://127.0.0.1:6636, data in ./ccdir-data).
    Serve(ServeArgs),
    /// Print an argon2id hash ({ARGON2}...) of a password read from standard input, for configs and LDIF.
    HashPassword(ConfigArgs),
    /// Validate the configuration without starting.
    CheckConfig(ServeArgs),
    /// Load LDIF files into the data directory (server stopped). All or nothing unless --continue.
    Import(ImportArgs),
    /// Write the directory (or a subtree) as LDIF from one consistent snapshot (from the data
    /// directory, or from the running server as a directory administrator).
    Export(ExportArgs),
    /// Take a backup: every entry with its operational attributes, from one snapshot, with its
    /// changelog position, into a new file in DIR (the running server keeps serving).
    Backup(BackupArgs),
    /// Restore a backup into a new, empty data directory (server stopped).
    Restore(RestoreArgs),
    /// Write a generated set of inetOrgPerson entries as LDIF (for benchmarks and tests).
    GenSample(GenSampleArgs),
    /// Record a verification of a contact (server stopped): sets the verification attributes
    /// as an LDAP modify would (docs/operations/freshness.md).
    Verify(VerifyArgs),
    /// Reports on the directory (the data directory, or the running server: docs/operations.md).
    #[command(subcommand)]
    Report(ReportCommand),
    /// What breaks a rule (the data directory, or the running server): values that fail a
    /// content check, registries without a complete 24/7 contact point. Exit status 1 when
    /// there is something to fix (docs/schema.md, "Checked values").
    Check(CheckArgs),
    /// The offline roster: vCard 4.0, CSV, or printable HTML pages per region
    /// (docs/operations/roster.md).
    Roster(RosterArgs),
    /// The reminder mails due now (server stopped, or a copy of its data dir): print them
    /// (--dry-run), or send them and record them as the server does (--send)
    /// (docs/operations/freshness.md, "Reminders").
    Reminders(RemindersArgs),
    /// The roster mails due now to the member registries' contact points (server stopped, or
    /// a copy of its data dir): print them (--dry-run), or sign, encrypt, send and record them
    /// as the server does (--send) (docs/operations/roster-mail.md).
    RosterMail(RemindersArgs),
    /// The OpenPGP keys and S/MIME certificates of every current recipient of a secure list
    /// (server stopped, or a copy of its data dir), and who has none
    /// (docs/operations/mailing-list.md, "Encrypting to the list").
    ListKeys(ListKeysArgs),
    /// Replication (docs/operations/replication.md).
    #[command(subcommand)]
    Replication(ReplicationCommand),
    /// Make a consumer the writer (server stopped): it stops following its provider and
    /// accepts client writes, with its own server id (docs/operations/replication.md,
    /// "Promoting a consumer").
    Promote(DataArgs),
    /// Take a bounce of an e-mail challenge (a delivery status notification, RFC 3464) from
    /// FILE or standard input, as the mail server's pipe transport for the challenges' sender:
    /// the writer records a failed check by e-mail at its next challenge check (docs/portal.md,
    /// "Bounces"). Exit status 0 when kept or when there is nothing to record, 75 (EX_TEMPFAIL,
    /// the mail server tries again later) when it could not be kept.
    Bounce(BounceArgs),
}

#[derive(Args)]
struct BounceArgs {
    #[command(flatten)]
    config: DataArgs,
    /// The bounce as received (default: standard input).
    file: Option<PathBuf>,
}

#[derive(Args)]
struct ListKeysArgs {
    #[command(flatten)]
    config: DataArgs,
    /// Only what this identity may read (a DN; "" for anonymous). Default: everything.
    #[arg(long = "as")]
    as_dn: Option<String>,
    /// The OpenPGP keys, ASCII-armoured (default: <list>-openpgp.asc).
    #[arg(long)]
    openpgp: Option<PathBuf>,
    /// The S/MIME certificates, PEM (default: <list>-smime.pem).
    #[arg(long)]
    smime: Option<PathBuf>,
    /// The list: members, region-centr, ... or its address (members@lists.cctld-ir.example).
    list: String,
}

#[derive(Args)]
#[group(id = "mode", required = true, multiple = false)]
struct RemindersArgs {
    #[command(flatten)]
    config: DataArgs,
    #[command(flatten)]
    log: LogArgs,
    /// Print what would be sent (recipients, subject, body); send and record nothing.
    #[arg(long, group = "mode")]
    dry_run: bool,
    /// Send the mails due now through the relay and record them (needs the section enabled:
    /// reminders.enabled, roster_mail.enabled).
    #[arg(long, group = "mode")]
    send: bool,
    /// As of this time (Generalized Time, e.g. 20261123000000Z; default now).
    #[arg(long)]
    at: Option<String>,
}

#[derive(Subcommand)]
enum ReplicationCommand {
    /// Role, provider, sync cookie and contextCSN from the data directory (server stopped);
    /// from the running server also its phase, lag, last contact, counters and the consumers
    /// it serves (as the administrator, or an identity that may read cn=Monitor).
    Status(StatusArgs),
}

#[derive(Args)]
struct StatusArgs {
    #[command(flatten)]
    config: DataArgs,
    #[command(flatten)]
    live: LiveArgs,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Contacts whose verification is overdue or due soon, per registry, with the registry's
    /// admins to notify.
    Overdue(OverdueArgs),
}

#[derive(Args)]
struct VerifyArgs {
    #[command(flatten)]
    config: DataArgs,
    /// How the contact was verified: voice, email, fax, chat or letter.
    #[arg(long)]
    method: String,
    /// Outcome: verified or failed.
    #[arg(long, default_value = "verified")]
    status: String,
    /// The check failed (same as --status failed): the contact is due again at once and reads
    /// overdue, e.g. when its address bounced (docs/operations/mailing-list.md, "Bounces").
    #[arg(long, conflicts_with = "status")]
    failed: bool,
    /// The contacts whose `mail` is this address (repeatable), instead of or besides DNs: the
    /// address from a bounce report.
    #[arg(long = "mail", value_name = "ADDRESS")]
    mail: Vec<String>,
    /// When the check was made (Generalized Time, e.g. 20261123141500Z; default now).
    #[arg(long)]
    at: Option<String>,
    /// Who verified (recorded in cctldVerifiedBy; must have write access). Default: the admin.
    #[arg(long)]
    by: Option<String>,
    /// What the verifier noted (kept with the contact and in its verification history).
    #[arg(long)]
    note: Option<String>,
    /// The contact entries (DNs).
    #[arg(required_unless_present = "mail")]
    dns: Vec<String>,
}

/// A running server to ask instead of the data directory (docs/operations.md, "Reports and
/// backups from the running server"). Without these, a data directory in use by the server is
/// asked through its own listener as the administrator.
#[derive(Args, Clone, Default)]
struct LiveArgs {
    /// The running server: ldaps://host:636, or ldap://host:389 (StartTLS is always used).
    #[arg(long)]
    url: Option<String>,
    /// Bind as this DN (with --password-file); what it gets is what access control gives it.
    #[arg(long)]
    bind_dn: Option<String>,
    /// File holding the bind password (default with no --bind-dn: the generated admin password
    /// file in the data directory).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// PEM CA certificate(s) to trust (default: the data directory's generated CA, else the
    /// system's).
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

impl LiveArgs {
    fn remote(&self) -> ccdir::app::live::RemoteArgs {
        ccdir::app::live::RemoteArgs {
            url: self.url.clone(),
            bind_dn: self.bind_dn.clone(),
            password_file: self.password_file.clone(),
            ca_file: self.ca_file.clone(),
        }
    }
}

#[derive(Args)]
struct BackupArgs {
    #[command(flatten)]
    config: DataArgs,
    #[command(flatten)]
    live: LiveArgs,
    /// Directory for the backup file (ccdir-backup-<time>.ldif).
    dir: PathBuf,
}

#[derive(Args)]
struct RestoreArgs {
    #[command(flatten)]
    config: DataArgs,
    /// The backup file (from ccdir backup).
    file: PathBuf,
}

#[derive(Args)]
struct OverdueArgs {
    #[command(flatten)]
    config: DataArgs,
    #[command(flatten)]
    live: LiveArgs,
    /// The report as of this time (Generalized Time, e.g. 20261123000000Z; default now).
    #[arg(long)]
    at: Option<String>,
    /// Also list contacts due within this many days (default: freshness.warn_days).
    #[arg(long)]
    within: Option<u32>,
    /// text, json or csv.
    #[arg(long, default_value = "text")]
    format: String,
    /// Only what this identity may read (a DN; "" for anonymous). Default: everything.
    #[arg(long = "as")]
    as_dn: Option<String>,
    /// Output file (default: standard output).
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    config: DataArgs,
    #[command(flatten)]
    live: LiveArgs,
    /// text or json.
    #[arg(long, default_value = "text")]
    format: String,
    /// Output file (default: standard output).
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct RosterArgs {
    #[command(flatten)]
    config: DataArgs,
    #[command(flatten)]
    live: LiveArgs,
    /// vcard, csv or html.
    #[arg(long, default_value = "html")]
    format: String,
    /// Only what this identity may read (a DN; "" for anonymous). Default: everything.
    #[arg(long = "as")]
    as_dn: Option<String>,
    /// Only this region (CENTR, APTLD, LACTLD, AFTLD, or "none").
    #[arg(long)]
    region: Option<String>,
    /// The date printed on the roster (Generalized Time; default now).
    #[arg(long)]
    at: Option<String>,
    /// Output: a file for vcard and csv (default standard output); a directory for html (one
    /// page per region, default ./roster).
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct ImportArgs {
    #[command(flatten)]
    config: DataArgs,
    /// Keep going past bad records and list them (default: import nothing if any record is bad).
    #[arg(long = "continue")]
    continue_on_error: bool,
    /// Allow `attr:< file://...` values, read relative to the LDIF file.
    #[arg(long)]
    allow_url: bool,
    /// No progress output.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// LDIF files (content records, e.g. slapcat output).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    config: DataArgs,
    #[command(flatten)]
    live: LiveArgs,
    /// Export only this subtree.
    #[arg(long)]
    base: Option<String>,
    /// Leave out operational attributes (entryUUID, timestamps, ...).
    #[arg(long)]
    no_operational: bool,
    /// Output file (default: standard output).
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct GenSampleArgs {
    /// Write a ccTLD scale set instead: this many registries under ou=registries, each with its
    /// 24/7 team and one person (e.g. 200, 1000, 5000).
    #[arg(long)]
    tlds: Option<u64>,
    /// Number of entries under ou=people.
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Give the first N users the password pw<i> (argon2id, default cost).
    #[arg(long, default_value_t = 0)]
    passwords: u64,
    /// Suffix.
    #[arg(long, default_value = "dc=cctld-ir,dc=example")]
    suffix: String,
    /// Output file (default: standard output).
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

/// The configuration file and `--set`: every command that reads the configuration.
#[derive(Args, Clone)]
struct ConfigArgs {
    /// TOML configuration file (see ccdir.example.toml).
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    /// Set any configuration key, e.g. --set limits.size_limit=1000 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

impl ConfigArgs {
    /// The file (or the defaults), then the command's own flags, then `--set`; validated.
    fn load_with(
        &self,
        flags: impl FnOnce(&mut Config) -> Result<(), String>,
    ) -> Result<Config, String> {
        let mut c = match &self.config {
            Some(p) => Config::from_file(p)?,
            None => Config::default(),
        };
        flags(&mut c)?;
        let c = c.with_overrides(&self.set)?;
        c.validate()?;
        Ok(c)
    }

    fn load(&self) -> Result<Config, String> {
        self.load_with(|_| Ok(()))
    }
}

/// The configuration and the directory it names: the commands that open the data directory.
#[derive(Args, Clone)]
struct DataArgs {
    #[command(flatten)]
    file: ConfigArgs,
    /// Data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Naming context, e.g. dc=cctld-ir,dc=example.
    #[arg(long)]
    suffix: Option<String>,
}

impl DataArgs {
    fn apply(&self, c: &mut Config) {
        if let Some(d) = &self.data_dir {
            c.data_dir = d.clone();
        }
        if let Some(s) = &self.suffix {
            c.suffix = s.clone();
        }
    }

    fn load_with(
        &self,
        flags: impl FnOnce(&mut Config) -> Result<(), String>,
    ) -> Result<Config, String> {
        self.file.load_with(|c| {
            self.apply(c);
            flags(c)
        })
    }

    fn load(&self) -> Result<Config, String> {
        self.load_with(|_| Ok(()))
    }
}

/// The log line format and filter: the commands that log (the server, and the mail senders).
#[derive(Args, Clone)]
struct LogArgs {
    /// Log format: human or json.
    #[arg(long)]
    log_format: Option<String>,
    /// Log level filter, e.g. info or ccdir=debug.
    #[arg(long)]
    log_level: Option<String>,
}

impl LogArgs {
    fn apply(&self, c: &mut Config) -> Result<(), String> {
        if let Some(f) = &self.log_format {
            c.log.format = match f.as_str() {
                "human" => LogFormat::Human,
                "json" => LogFormat::Json,
                other => return Err(format!("--log-format {other}: expected human or json")),
            };
        }
        if let Some(l) = &self.log_level {
            c.log.level = l.clone();
        }
        Ok(())
    }
}

/// What only the server uses: its listeners, its certificate, its log.
#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Plain LDAP listen address (repeatable), e.g. 127.0.0.1:3389.
    #[arg(long = "ldap-listen")]
    ldap_listen: Vec<String>,
    /// LDAPS listen address (repeatable), e.g. 127.0.0.1:6636.
    #[arg(long = "ldaps-listen")]
    ldaps_listen: Vec<String>,
    /// PEM certificate chain (with --tls-key).
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// PEM private key (with --tls-cert).
    #[arg(long)]
    tls_key: Option<PathBuf>,
    #[command(flatten)]
    log: LogArgs,
}

impl ServeArgs {
    fn load(&self) -> Result<Config, String> {
        self.data.load_with(|c| {
            if !self.ldap_listen.is_empty() {
                c.listen.ldap = self.ldap_listen.clone();
            }
            if !self.ldaps_listen.is_empty() {
                c.listen.ldaps = self.ldaps_listen.clone();
            }
            if let Some(p) = &self.tls_cert {
                c.tls.cert = Some(p.clone());
            }
            if let Some(p) = &self.tls_key {
                c.tls.key = Some(p.clone());
            }
            self.log.apply(c)
        })
    }
}

fn init_logging(c: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&c.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match c.log.format {
        LogFormat::Json => b.json().init(),
        LogFormat::Human => b.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => a.load().and_then(serve),
        Command::HashPassword(a) => a.load().and_then(|c| hash_password(&c)),
        Command::Import(a) => import(a),
        Command::Export(a) => export(a),
        Command::Backup(a) => backup(a),
        Command::Restore(a) => restore(a),
        Command::GenSample(a) => gen_sample(a),
        Command::Verify(a) => verify(a),
        Command::Report(ReportCommand::Overdue(a)) => report_overdue(a),
        Command::Roster(a) => roster(a),
        Command::Check(a) => check(a),
        Command::Reminders(a) => reminders(a),
        Command::RosterMail(a) => roster_mail(a),
        Command::ListKeys(a) => list_keys(a),
        Command::Replication(ReplicationCommand::Status(a)) => a.config.load().and_then(|c| {
            let out = run_tool(&c, &a.live, &ToolRequest::ReplicationStatus {}, None)?;
            write_out(None, &out.text)
        }),
        Command::Promote(a) => a.load().and_then(|c| {
            let dir = open_offline(&c)?;
            println!("{}", ccdir::app::consumer::promote(&dir)?);
            Ok(())
        }),
        Command::Bounce(a) => {
            return match bounce(a) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ccdir: {e}");
                    // EX_TEMPFAIL (sysexits.h): the mail server keeps the bounce and retries.
                    ExitCode::from(75)
                }
            };
        }
        Command::CheckConfig(a) => a.load().map(|c| {
            println!(
                "configuration OK (data dir {}, suffix {})",
                c.data_dir.display(),
                c.suffix
            );
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ccdir: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(c: Config) -> Result<(), String> {
    init_logging(&c);
    // Operations run on the blocking pool: bound it, so that a burst of requests waits for a
    // thread instead of starting hundreds (each keeps its stack and allocator pages).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(c.limits.operation_threads)
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let server = Server::start(c).await?;
        // systemd (Type=notify): ready once listening; watchdog pings while the runtime runs.
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
        if let Some(every) = sd_notify::watchdog_enabled() {
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every / 2);
                loop {
                    tick.tick().await;
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                }
            });
        }
        wait_for_signal(&server).await;
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        tracing::info!("shutting down: no new connections, finishing in-flight operations");
        server.shutdown().await;
        Ok(())
    })
}

/// Until SIGTERM or Ctrl-C; SIGHUP reloads the TLS certificate.
async fn wait_for_signal(server: &Server) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut term), Ok(mut hup)) => loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return,
                    _ = term.recv() => return,
                    _ = hup.recv() => {
                        let _ = sd_notify::notify(&[sd_notify::NotifyState::Reloading]);
                        let _ = server.reload_tls();
                        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
                    }
                }
            },
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = server;
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn open_offline(c: &Config) -> Result<ccdir::service::Directory, String> {
    ccdir::app::server::open_directory(c, std::sync::Arc::new(ccdir::core::clock::SystemClock))
}

fn import(a: ImportArgs) -> Result<(), String> {
    let mut c = a.config.load()?;
    c.load_sample = false;
    c.store.cache_mib = c.store.import_cache_mib;
    let dir = open_offline(&c)?;
    let opts = ccdir::tools::import::ImportOptions {
        continue_on_error: a.continue_on_error,
        allow_url: a.allow_url,
        quiet: a.quiet,
    };
    let s = ccdir::tools::import::import_files(&dir, &a.files, &opts)?;
    for r in &s.rejected {
        eprintln!(
            "{}:{}: {}{}{}",
            r.source.file,
            r.source.line,
            r.dn,
            if r.dn.is_empty() { "" } else { ": " },
            r.error
        );
    }
    let rate = s.added as f64 / s.secs.max(1e-3);
    if s.rolled_back {
        return Err(format!(
            "{} bad record(s); nothing was imported (use --continue to import the rest)",
            s.rejected.len()
        ));
    }
    eprintln!(
        "imported {} entries in {:.1} s ({rate:.0} entries/s); {} rejected",
        s.added,
        s.secs,
        s.rejected.len()
    );
    if s.rejected.is_empty() {
        Ok(())
    } else {
        Err(format!("{} record(s) rejected", s.rejected.len()))
    }
}

fn export(a: ExportArgs) -> Result<(), String> {
    let c = a.config.load()?;
    // From the data directory, streamed to the file: at millions of entries the LDIF is
    // never held in memory whole.
    if let Some(dir) = offline_dir(&c, &a.live)? {
        let n = match a.output.as_ref() {
            Some(p) => {
                let f = std::fs::File::create(p)
                    .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
                let mut w = std::io::BufWriter::new(f);
                let n = ccdir::tools::import::export(
                    &dir,
                    &mut w,
                    a.base.as_deref(),
                    !a.no_operational,
                )?;
                w.flush()
                    .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
                n
            }
            None => {
                let mut w = std::io::BufWriter::new(std::io::stdout().lock());
                let r = ccdir::tools::import::export(
                    &dir,
                    &mut w,
                    a.base.as_deref(),
                    !a.no_operational,
                )
                .and_then(|n| w.flush().map(|_| n).map_err(|e| e.to_string()));
                match r {
                    Ok(n) => n,
                    // The reader left (`ccdir export | head`): nothing more to say.
                    Err(e) if e.contains("Broken pipe") => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        };
        eprintln!("exported {n} entries");
        return Ok(());
    }
    let req = ToolRequest::Export {
        base: a.base.clone(),
        operational: !a.no_operational,
    };
    let out = run_tool(&c, &a.live, &req, None)?;
    write_out(a.output.as_ref(), &out.text)?;
    eprintln!("exported {} entries", out.entries.unwrap_or(0));
    Ok(())
}

fn backup(a: BackupArgs) -> Result<(), String> {
    let c = a.config.load()?;
    let out = run_tool(&c, &a.live, &ToolRequest::Backup {}, None)?;
    std::fs::create_dir_all(&a.dir)
        .map_err(|e| format!("cannot create {}: {e}", a.dir.display()))?;
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(|e| e.to_string())?;
    let path = a.dir.join(format!("ccdir-backup-{stamp}.ldif"));
    // Written beside, then renamed: a file of that name is always a whole backup.
    let tmp = a.dir.join(format!(".ccdir-backup-{stamp}.ldif.part"));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(out.text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!(
        "backed up {} entries to {}",
        out.entries.unwrap_or(0),
        path.display()
    );
    Ok(())
}

fn restore(a: RestoreArgs) -> Result<(), String> {
    let mut c = a.config.load()?;
    c.load_sample = false;
    let store = c.data_dir.join(ccdir::app::server::STORE_FILE);
    if store.exists() {
        return Err(format!(
            "{} exists: restore into a new data directory (--data-dir), then move it in place",
            store.display()
        ));
    }
    c.store.cache_mib = c.store.import_cache_mib;
    let dir = open_offline(&c)?;
    let opts = ccdir::tools::import::ImportOptions {
        continue_on_error: false,
        allow_url: false,
        quiet: true,
    };
    let s = ccdir::tools::import::import_files(&dir, std::slice::from_ref(&a.file), &opts)?;
    if s.rolled_back || !s.rejected.is_empty() {
        return Err(format!(
            "{} entries refused: nothing restored",
            s.rejected.len()
        ));
    }
    eprintln!("restored {} entries into {}", s.added, c.data_dir.display());
    Ok(())
}

/// Run a reading tool on the data directory, or, when the server holds it (or --url,
/// --bind-dn or --password-file say so), in the running server.
fn run_tool(
    c: &Config,
    live: &LiveArgs,
    req: &ToolRequest,
    as_dn: Option<&str>,
) -> Result<ccdir::tools::run::ToolOutput, String> {
    if let Some(dir) = offline_dir(c, live)? {
        return ccdir::tools::run::run(&dir, req, as_dn);
    }
    if as_dn.is_some() {
        return Err(
            "--as reads a stopped data directory; from the running server, bind as that \
             identity instead (--bind-dn and --password-file)"
                .into(),
        );
    }
    let r = ccdir::app::live::Remote::new(c, &live.remote())?;
    eprintln!("asking the running server at {} as {}", r.url, r.bind_dn);
    r.run(req)
}

/// The data directory, when a tool is to read it itself: no --url, --bind-dn or
/// --password-file, and no server holding it (None: ask the running server).
fn offline_dir(c: &Config, live: &LiveArgs) -> Result<Option<ccdir::service::Directory>, String> {
    if live.remote().given() {
        return Ok(None);
    }
    match open_offline(c) {
        Ok(dir) => Ok(Some(dir)),
        Err(e) if e.contains("in use by another ccdir process") => Ok(None),
        Err(e) => Err(e),
    }
}
fn parse_time(t: Option<&str>) -> Result<time::OffsetDateTime, String> {
    match t {
        None => Ok(time::OffsetDateTime::now_utc()),
        Some(s) => ccdir::freshness::parse_gtime(s.as_bytes())
            .ok_or_else(|| format!("{s}: not a Generalized Time (e.g. 20261123000000Z)")),
    }
}

/// Write to the file, or to standard output.
fn write_out(path: Option<&PathBuf>, text: &str) -> Result<(), String> {
    match path {
        Some(p) => {
            std::fs::write(p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
        }
        None => {
            let mut o = std::io::stdout().lock();
            match o.write_all(text.as_bytes()).and_then(|_| o.flush()) {
                // The reader left (`ccdir report overdue | head`): nothing more to say.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.map_err(|e| format!("write failed: {e}")),
            }
        }
    }
}

fn verify(a: VerifyArgs) -> Result<(), String> {
    let c = a.config.load()?;
    if ccdir::freshness::Method::parse(&a.method).is_none() {
        return Err(format!(
            "--method {}: expected voice, email, fax, chat or letter",
            a.method
        ));
    }
    let dir = open_offline(&c)?;
    let by = a.by.clone().unwrap_or_else(|| c.admin_dn());
    let status = if a.failed {
        "failed".to_string()
    } else {
        a.status.clone()
    };
    let mut changes = vec![
        ("cctldVerificationMethod", a.method.clone()),
        ("cctldVerificationStatus", status),
    ];
    if let Some(t) = &a.at {
        parse_time(Some(t))?;
        changes.push(("cctldLastVerified", t.clone()));
    }
    if let Some(n) = &a.note {
        changes.push(("cctldVerificationNote", n.clone()));
    }
    let mut dns = a.dns.clone();
    for m in &a.mail {
        let found = ccdir::tools::verify::contacts_with_mail(&dir, m)?;
        if found.is_empty() {
            return Err(format!("--mail {m}: no contact entry has this address"));
        }
        dns.extend(found);
    }
    for dn in &dns {
        ccdir::tools::verify::record(&dir, &by, dn, &changes).map_err(|e| format!("{dn}: {e}"))?;
        let e = ccdir::tools::verify::show(&dir, dn)?;
        println!("{e}");
    }
    Ok(())
}

/// `ccdir bounce`: read the bounce (at most `bounce::MAX_INPUT` bytes of it; the rest is read
/// and dropped, so the mail server sees its input taken), and spool it when it returns a
/// challenge.
fn bounce(a: BounceArgs) -> Result<(), String> {
    use ccdir::tools::bounce;
    use std::io::Read;
    let c = a.config.load()?;
    let mut input: Box<dyn Read> = match &a.file {
        Some(p) => Box::new(
            std::fs::File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?,
        ),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut raw = Vec::new();
    (&mut input)
        .take(bounce::MAX_INPUT)
        .read_to_end(&mut raw)
        .map_err(|e| format!("reading the bounce: {e}"))?;
    std::io::copy(&mut input, &mut std::io::sink())
        .map_err(|e| format!("reading the bounce: {e}"))?;
    if !c.portal.challenges {
        println!(
            "nothing recorded: e-mail challenges are off in this configuration \
             (portal.challenges)"
        );
        return Ok(());
    }
    match bounce::parse(&raw) {
        Ok(b) => {
            let path = bounce::spool(&c.data_dir, &b)?;
            let to: Vec<&str> = b.failed.iter().map(|f| f.address.as_str()).collect();
            println!(
                "bounce of e-mail challenge {} to {}: kept in {}; the writer records the failed \
                 check at its next challenge check",
                b.challenge,
                to.join(", "),
                path.display()
            );
        }
        Err(why) => println!("nothing recorded: {why}"),
    }
    Ok(())
}

fn report_overdue(a: OverdueArgs) -> Result<(), String> {
    let c = a.config.load()?;
    let req = ToolRequest::ReportOverdue {
        at: a.at.clone(),
        within: a.within,
        format: a.format.clone(),
    };
    let out = run_tool(&c, &a.live, &req, a.as_dn.as_deref())?;
    write_out(a.output.as_ref(), &out.text)
}
fn reminders(a: RemindersArgs) -> Result<(), String> {
    let c = a.config.load_with(|c| a.log.apply(c))?;
    if a.send && !c.reminders.enabled {
        return Err(
            "reminders are not enabled (reminders.enabled = true, with relay and from)".into(),
        );
    }
    let clock = std::sync::Arc::new(ccdir::core::clock::ManualClock::new(parse_time(
        a.at.as_deref(),
    )?));
    let dir = ccdir::app::server::open_directory(&c, clock)?;
    if a.dry_run {
        let mails = ccdir::tools::reminders::plan(&dir)?;
        let from = if c.reminders.from.is_empty() {
            "(reminders.from not set)"
        } else {
            &c.reminders.from
        };
        let mut out = String::new();
        for m in &mails {
            out.push_str(&ccdir::tools::reminders::text(from, m));
            out.push('\n');
        }
        write_out(None, &out)?;
        eprintln!(
            "{} mail(s) would be sent (dry run: nothing sent or recorded)",
            mails.len()
        );
        return Ok(());
    }
    init_logging(&c);
    let smtp = ccdir::tools::reminders::smtp::Smtp::new(&c.reminders)?;
    let o = ccdir::tools::reminders::run(&dir, &smtp, &|| false)?;
    eprintln!(
        "{} mail(s) sent, {} failed, {} not tried (relay unavailable)",
        o.sent, o.failed, o.deferred
    );
    if o.failed + o.deferred > 0 {
        Err(format!(
            "{} mail(s) not sent (see above)",
            o.failed + o.deferred
        ))
    } else {
        Ok(())
    }
}

fn roster_mail(a: RemindersArgs) -> Result<(), String> {
    use ccdir::tools::rostermail;
    let c = a.config.load_with(|c| a.log.apply(c))?;
    if a.send && !c.roster_mail.enabled {
        return Err(
            "the roster mail is not enabled (roster_mail.enabled = true, with gpg_home, \
             signing_key and the relay of [reminders])"
                .into(),
        );
    }
    let clock = std::sync::Arc::new(ccdir::core::clock::ManualClock::new(parse_time(
        a.at.as_deref(),
    )?));
    let dir = ccdir::app::server::open_directory(&c, clock)?;
    let from = c.roster_mail.sender(&c.reminders);
    if a.dry_run {
        let mails = rostermail::plan(&dir)?;
        let from = if from.is_empty() {
            "(no sender set)"
        } else {
            from
        };
        let mut out = String::new();
        for m in &mails {
            out.push_str(&rostermail::text(from, m));
            out.push('\n');
        }
        write_out(None, &out)?;
        eprintln!(
            "{} roster mail(s) would be sent (dry run: nothing signed, sent or recorded)",
            mails.len()
        );
        return Ok(());
    }
    init_logging(&c);
    let signer = rostermail::gpg::Gpg::open(&c.roster_mail)?;
    let smtp = rostermail::smtp(&c)?;
    let o = rostermail::run(&dir, &signer, &smtp, &|| false)?;
    eprintln!(
        "{} roster mail(s) sent, {} failed, {} not tried (relay unavailable)",
        o.sent, o.failed, o.deferred
    );
    if o.failed + o.deferred > 0 {
        Err(format!(
            "{} roster mail(s) not sent (see above)",
            o.failed + o.deferred
        ))
    } else {
        Ok(())
    }
}

fn list_keys(a: ListKeysArgs) -> Result<(), String> {
    use ccdir::tools::listkeys;
    let list = listkeys::list_name(&a.list)?;
    let c = a.config.load()?;
    let dir = open_offline(&c)?;
    let entries = ccdir::tools::offline::entries(&dir, None, a.as_dn.as_deref())?;
    let rs = listkeys::recipients(&dir, &entries, &list)?;
    let pgp: String = rs.iter().flat_map(|r| r.openpgp_armored.clone()).collect();
    let certs: String = rs
        .iter()
        .flat_map(|r| r.smime.iter().map(|d| listkeys::pem(d)))
        .collect();
    let pgp_file = a
        .openpgp
        .unwrap_or_else(|| PathBuf::from(format!("{list}-openpgp.asc")));
    let smime_file = a
        .smime
        .unwrap_or_else(|| PathBuf::from(format!("{list}-smime.pem")));
    write_out(Some(&pgp_file), &pgp)?;
    write_out(Some(&smime_file), &certs)?;
    write_out(None, &listkeys::report(&list, &rs))?;
    eprintln!(
        "wrote {} OpenPGP key(s) to {} and {} S/MIME certificate(s) to {}",
        rs.iter().map(|r| r.openpgp.len()).sum::<usize>(),
        pgp_file.display(),
        rs.iter().map(|r| r.smime.len()).sum::<usize>(),
        smime_file.display()
    );
    Ok(())
}

fn check(a: CheckArgs) -> Result<(), String> {
    let c = a.config.load()?;
    let req = ToolRequest::Check {
        format: a.format.clone(),
    };
    let out = run_tool(&c, &a.live, &req, None)?;
    write_out(a.output.as_ref(), &out.text)?;
    match out.problems {
        Some(n) if n > 0 => Err(format!("{n} problems to fix (see above)")),
        _ => Ok(()),
    }
}
fn roster(a: RosterArgs) -> Result<(), String> {
    let c = a.config.load()?;
    let req = ToolRequest::Roster {
        format: a.format.clone(),
        region: a.region.clone(),
        at: a.at.clone(),
    };
    let out = run_tool(&c, &a.live, &req, a.as_dn.as_deref())?;
    if out.files.is_empty() {
        return write_out(a.output.as_ref(), &out.text);
    }
    let dir = a.output.clone().unwrap_or_else(|| PathBuf::from("roster"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (file, page) in &out.files {
        // Names come from the server: a plain file name only.
        if file.is_empty() || file.contains(['/', '\\']) || file.starts_with('.') {
            return Err(format!("unexpected file name from the server: {file}"));
        }
        let p = dir.join(file);
        std::fs::write(&p, page).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}
fn gen_sample(a: GenSampleArgs) -> Result<(), String> {
    let cfg = Config::default();
    let hasher = ccdir::service::password::Hasher::new(&cfg.password)?;
    let mut out: Box<dyn std::io::Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let w = |e: std::io::Error| format!("write failed: {e}");
    if let Some(n) = a.tlds {
        for i in 0..n {
            for (dn, attrs) in ccdir::tools::generate::registry_set(i, &a.suffix) {
                ccdir::core::ldif::write_entry(
                    &mut out,
                    &dn,
                    attrs.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
                )
                .map_err(w)?;
            }
        }
        return out.flush().map_err(w);
    }
    let ou: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "objectClass",
            vec![b"top".to_vec(), b"organizationalUnit".to_vec()],
        ),
        ("ou", vec![b"people".to_vec()]),
    ];
    ccdir::core::ldif::write_entry(
        &mut out,
        &format!("ou=people,{}", a.suffix),
        ou.iter().map(|(k, v)| (*k, v.as_slice())),
    )
    .map_err(w)?;
    for i in 0..a.count {
        let hash = if i < a.passwords {
            Some(hasher.hash(format!("pw{i}").as_bytes())?)
        } else {
            None
        };
        let (dn, attrs) = ccdir::tools::generate::people(i, &a.suffix, hash.as_deref());
        ccdir::core::ldif::write_entry(
            &mut out,
            &dn,
            attrs.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
        )
        .map_err(w)?;
    }
    out.flush().map_err(w)
}

fn hash_password(c: &Config) -> Result<(), String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let pw = line.trim_end_matches(['\r', '\n']);
    if pw.is_empty() {
        return Err("empty password".into());
    }
    let h = ccdir::service::password::Hasher::new(&c.password)?;
    println!("{}", h.hash(pw.as_bytes())?);
    Ok(())
}
