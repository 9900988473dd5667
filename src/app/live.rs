//! The client side of the live tools: `ccdir report overdue`, `roster`, `export`, `check`,
//! `backup` and `replication status` against a running server, over LDAPS (or LDAP with StartTLS, never in clear) as a
//! bound identity, through the live-tool extended operation (ops/extended.rs). The server runs
//! the same code as the offline command, on one snapshot, as that identity sees the directory.
//!
//! Defaults, for the operator on the server's host: the server's first LDAPS listener from the
//! configuration (else its first LDAP listener with StartTLS), the data directory's generated
//! CA (else the system's roots), and the administrator with the generated password file.

use crate::service::config::Config;
use crate::tools::run::{ToolOutput, ToolRequest};
use ldap3::exop::Exop;
use ldap3::{LdapConn, LdapConnSettings};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where and as whom to run a live tool.
#[derive(Debug, Clone)]
pub struct Remote {
    pub url: String,
    pub bind_dn: String,
    password: String,
    pub ca_file: Option<PathBuf>,
}

/// What the command line gave.
#[derive(Debug, Clone, Default)]
pub struct RemoteArgs {
    pub url: Option<String>,
    pub bind_dn: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
}

impl RemoteArgs {
    /// Did the command line ask for the running server?
    pub fn given(&self) -> bool {
        self.url.is_some() || self.bind_dn.is_some() || self.password_file.is_some()
    }
}

/// A listen address as a client reaches it: the wildcard addresses become loopback.
fn reachable(addr: &str) -> String {
    if let Some(port) = addr.strip_prefix("0.0.0.0:") {
        format!("127.0.0.1:{port}")
    } else if let Some(port) = addr.strip_prefix("[::]:") {
        format!("[::1]:{port}")
    } else {
        addr.to_string()
    }
}

impl Remote {
    pub fn new(config: &Config, a: &RemoteArgs) -> Result<Remote, String> {
        let url = match &a.url {
            Some(u) => u.clone(),
            None => match (config.listen.ldaps.first(), config.listen.ldap.first()) {
                (Some(s), _) => format!("ldaps://{}", reachable(s)),
                (None, Some(p)) => format!("ldap://{}", reachable(p)),
                (None, None) => return Err("no listener configured: give --url".into()),
            },
        };
        let bind_dn = a.bind_dn.clone().unwrap_or_else(|| config.admin_dn());
        let pwfile = match &a.password_file {
            Some(p) => p.clone(),
            None if a.bind_dn.is_none() => config
                .data_dir
                .join(crate::app::bootstrap::ADMIN_PASSWORD_FILE),
            None => return Err("--bind-dn needs --password-file".into()),
        };
        let password = std::fs::read_to_string(&pwfile)
            .map_err(|e| format!("cannot read the password file {}: {e}", pwfile.display()))?
            .trim_end_matches(['\n', '\r'])
            .to_string();
        let ca_file = a.ca_file.clone().or_else(|| {
            let generated = config.data_dir.join(crate::app::tls::CA_FILE);
            (config.tls.cert.is_none() && generated.exists()).then_some(generated)
        });
        Ok(Remote {
            url,
            bind_dn,
            password,
            ca_file,
        })
    }

    fn tls(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca_file {
            Some(f) => {
                let certs = rustls_pki_types::CertificateDer::pem_file_iter(f)
                    .map_err(|e| format!("{}: {e}", f.display()))?;
                for c in certs {
                    let c = c.map_err(|e| format!("{}: {e}", f.display()))?;
                    roots.add(c).map_err(|e| format!("{}: {e}", f.display()))?;
                }
            }
            None => {
                for c in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(c);
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth(),
        ))
    }

    /// Run `req` in the server and return what it produced.
    pub fn run(&self, req: &ToolRequest) -> Result<ToolOutput, String> {
        let plain = self.url.starts_with("ldap://");
        if !plain && !self.url.starts_with("ldaps://") {
            return Err(format!("--url {}: expected ldaps:// or ldap://", self.url));
        }
        let settings = LdapConnSettings::new()
            .set_config(self.tls()?)
            .set_starttls(plain)
            .set_conn_timeout(Duration::from_secs(10));
        let mut c = LdapConn::with_settings(settings, &self.url)
            .map_err(|e| format!("cannot reach {}: {e}", self.url))?;
        let bound = c
            .simple_bind(&self.bind_dn, &self.password)
            .map_err(|e| format!("bind as {}: {e}", self.bind_dn))?;
        if bound.rc != 0 {
            return Err(format!(
                "bind as {} refused: result {} {}",
                self.bind_dn, bound.rc, bound.text
            ));
        }
        let value = serde_json::to_vec(req).map_err(|e| e.to_string())?;
        let res = c
            .extended(Exop {
                name: Some(crate::ops::extended::OID_LIVE_TOOL.to_string()),
                val: Some(value),
            })
            .map_err(|e| format!("{}: {e}", self.url))?;
        let (exop, result) = (res.0, res.1);
        let _ = c.unbind();
        if result.rc != 0 {
            return Err(format!(
                "the server refused: result {} {}",
                result.rc, result.text
            ));
        }
        let val = exop.val.ok_or("the server sent no output")?;
        serde_json::from_slice(&val).map_err(|e| format!("unreadable answer from the server: {e}"))
    }
}
