//! Test servers: one tokio runtime per server, started on 127.0.0.1:0 with a temporary data dir.

#![allow(dead_code)]

use ccdir::service::config::Config;
use ccdir::Server;
use ldap3::{LdapConn, LdapConnSettings};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

pub const SUFFIX: &str = "dc=cctld-ir,dc=example";
pub const ADMIN: &str = "cn=admin,dc=cctld-ir,dc=example";

pub struct TestServer {
    rt: tokio::runtime::Runtime,
    server: Option<Server>,
    pub data: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub config: Config,
}

/// A configuration for tests: loopback port 0, cheap argon2, no sample data.
pub fn test_config(data: &Path) -> Config {
    let mut c = Config {
        data_dir: data.to_path_buf(),
        ..Default::default()
    };
    c.listen.ldap = vec!["127.0.0.1:0".into()];
    c.listen.ldaps = vec!["127.0.0.1:0".into()];
    c.load_sample = false;
    // The OpenPGP keyserver entries have their own tests (gnupg.rs); without them the base
    // entries are the suffix, cn=admin, ou=registries and ou=groups.
    c.openpgp_keyserver = false;
    c.password.argon2_memory_kib = 256;
    c.password.argon2_iterations = 1;
    // Most tests talk plain LDAP; the TLS requirement has its own tests.
    c.password.require_tls = false;
    c.log.level = "warn".into();
    c.audit.output = "none".into();
    c
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    /// Start with a changed test configuration.
    pub fn start_with(f: impl FnOnce(&mut Config)) -> TestServer {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut c = test_config(tmp.path());
        f(&mut c);
        let mut s = Self::start_config(c);
        s._tmp = Some(tmp);
        s
    }

    /// Start with a changed test configuration and the given clock.
    pub fn start_with_clock(
        clock: Arc<dyn ccdir::core::clock::Clock>,
        f: impl FnOnce(&mut Config),
    ) -> TestServer {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut c = test_config(tmp.path());
        f(&mut c);
        let mut s = Self::start_config_clock(c, clock);
        s._tmp = Some(tmp);
        s
    }

    pub fn start_config(config: Config) -> TestServer {
        Self::start_config_clock(config, Arc::new(ccdir::core::clock::SystemClock))
    }

    fn start_config_clock(config: Config, clock: Arc<dyn ccdir::core::clock::Clock>) -> TestServer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt
            .block_on(Server::start_with_clock(config.clone(), clock))
            .expect("server start");
        TestServer {
            rt,
            server: Some(server),
            data: config.data_dir.clone(),
            _tmp: None,
            config,
        }
    }

    /// Stop and start again on the same data dir (new ports).
    pub fn restart(self) -> TestServer {
        self.restart_with_clock(Arc::new(ccdir::core::clock::SystemClock))
    }

    /// Stop and start again on the same data dir (new ports) with the given clock.
    pub fn restart_with_clock(mut self, clock: Arc<dyn ccdir::core::clock::Clock>) -> TestServer {
        let tmp = self._tmp.take();
        let config = self.config.clone();
        self.stop_now();
        let mut s = Self::start_config_clock(config, clock);
        s._tmp = tmp;
        s
    }

    /// Stop, keeping the data dir (for offline commands): the temporary directory holding it.
    pub fn stop(mut self) -> Option<tempfile::TempDir> {
        self.stop_now();
        self._tmp.take()
    }

    fn stop_now(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("running")
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://{}", self.server().ldap_addrs[0])
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://localhost:{}", self.server().ldaps_addrs[0].port())
    }

    pub fn ldap_addr(&self) -> std::net::SocketAddr {
        self.server().ldap_addrs[0]
    }

    pub fn ca_file(&self) -> PathBuf {
        self.data.join("ca.pem")
    }

    pub fn admin_password_file(&self) -> PathBuf {
        self.data.join("admin-password")
    }

    pub fn admin_password(&self) -> String {
        std::fs::read_to_string(self.admin_password_file()).expect("admin password file")
    }

    /// A plain connection, not bound.
    pub fn conn(&self) -> LdapConn {
        LdapConn::new(&self.ldap_url()).expect("connect")
    }

    /// A connection bound as the administrator.
    pub fn admin(&self) -> LdapConn {
        let mut c = self.conn();
        c.simple_bind(ADMIN, &self.admin_password())
            .expect("bind")
            .success()
            .expect("admin bind");
        c
    }

    /// A rustls client configuration that trusts the server's generated CA.
    pub fn tls_config(&self) -> Arc<rustls::ClientConfig> {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_pki_types::CertificateDer::pem_file_iter(self.ca_file()).expect("ca") {
            roots.add(c.expect("ca cert")).expect("add ca");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }

    pub fn conn_starttls(&self) -> LdapConn {
        let s = LdapConnSettings::new()
            .set_config(self.tls_config())
            .set_starttls(true);
        let url = format!("ldap://localhost:{}", self.ldap_addr().port());
        LdapConn::with_settings(s, &url).expect("starttls connect")
    }

    pub fn conn_ldaps(&self) -> LdapConn {
        let s = LdapConnSettings::new().set_config(self.tls_config());
        LdapConn::with_settings(s, &self.ldaps_url()).expect("ldaps connect")
    }

    /// Run an OpenLDAP client tool against this server; TLS trusts the generated CA.
    pub fn tool(&self, name: &str, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(name);
        cmd.args(args)
            .env("LDAPTLS_CACERT", self.ca_file())
            .env("LDAPTLS_REQCERT", "demand")
            // Ignore the machine's ldap.conf and ~/.ldaprc but keep the LDAPTLS_* variables
            // (LDAPNOINIT would drop those too).
            .env("LDAPCONF", "/dev/null")
            .env("LDAPRC", "/nonexistent/ldaprc")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{name} not runnable (install ldap-utils): {e}"));
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("tool output")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Add an entry as admin, panicking on failure (test setup).
pub fn add(c: &mut LdapConn, dn: &str, attrs: &[(&str, &[&str])]) {
    let attrs: Vec<(&str, std::collections::HashSet<&str>)> = attrs
        .iter()
        .map(|(a, v)| (*a, v.iter().copied().collect()))
        .collect();
    c.add(dn, attrs)
        .expect("add")
        .success()
        .expect("add success");
}

/// A person entry under ou=registries.
pub fn person_dn(uid: &str) -> String {
    format!("uid={uid},ou=registries,{SUFFIX}")
}

pub fn add_person(c: &mut LdapConn, uid: &str, cn: &str) {
    add(
        c,
        &person_dn(uid),
        &[
            (
                "objectClass",
                &["top", "person", "organizationalPerson", "inetOrgPerson"],
            ),
            ("uid", &[uid]),
            ("cn", &[cn]),
            ("sn", &[cn.rsplit(' ').next().unwrap_or(cn)]),
        ],
    );
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The exit code of an OpenLDAP tool is the LDAP result code.
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Make everyone below ou=registries an entitled reader under the default policy: the group
/// cn=members lists ou=registries (members' subtrees count).
pub fn grant_members(s: &TestServer) {
    let mut c = s.admin();
    add(
        &mut c,
        &format!("cn=members,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["members"]),
            ("member", &[&format!("ou=registries,{SUFFIX}")]),
        ],
    );
}

/// What ccdir logs at info and above, kept in memory for tests that check a log line. The
/// first call installs a process-wide tracing subscriber: all tests share this process and the
/// servers log from tokio's worker threads, so a test finds its own lines by something only they
/// contain, such as its client's address (`peer=127.0.0.1:port`).
pub fn server_log() -> &'static ServerLog {
    static LOG: std::sync::OnceLock<&'static ServerLog> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log: &'static ServerLog = Box::leak(Box::new(ServerLog {
            text: std::sync::Mutex::new(Vec::new()),
        }));
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("ccdir=info"))
            .with_ansi(false)
            .with_writer(move || LogWriter(log))
            .finish();
        // Only this function installs one; should another have, the lines are not seen here
        // and the tests that look for them say so.
        let _ = tracing::subscriber::set_global_default(subscriber);
        log
    })
}

pub struct ServerLog {
    text: std::sync::Mutex<Vec<u8>>,
}

impl ServerLog {
    /// The lines that contain `needle`, once there is at least one or `wait` has passed.
    pub fn lines_with(&self, needle: &str, wait: std::time::Duration) -> Vec<String> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let lines: Vec<String> = {
                let text = self.text.lock().unwrap_or_else(|e| e.into_inner());
                String::from_utf8_lossy(&text)
                    .lines()
                    .filter(|l| l.contains(needle))
                    .map(str::to_string)
                    .collect()
            };
            if !lines.is_empty() || std::time::Instant::now() >= deadline {
                return lines;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// One formatted event per write (tracing-subscriber writes each event whole).
struct LogWriter(&'static ServerLog);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut text = self.0.text.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: the other tests log through it too.
        if text.len() > 8 << 20 {
            let half = text.len() / 2;
            text.drain(..half);
        }
        text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// LDIF of the naming context and `ou=registries`, for import tests.
pub const BASE_LDIF: &str = "dn: dc=cctld-ir,dc=example
objectClass: top
objectClass: dcObject
objectClass: organization
dc: cctld-ir
o: Test

dn: ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalUnit
ou: registries

";

/// Run the `ccdir` binary on a data directory (no sample, cheap password hashing).
pub fn ccdir(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ccdir"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .args([
            "--set",
            "password.argon2_memory_kib=256",
            "--set",
            "load_sample=false",
        ])
        .output()
        .expect("run ccdir")
}
