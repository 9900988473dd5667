//! TLS: the server certificate (configured PEM files, or a CA and server certificate generated
//! once into the data dir) and the rustls server configuration shared by LDAPS and StartTLS.

use crate::service::config::Config;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) const CA_FILE: &str = "ca.pem";
pub(crate) const CA_KEY_FILE: &str = "ca.key";
pub(crate) const CERT_FILE: &str = "server.pem";
pub(crate) const KEY_FILE: &str = "server.key";

/// Paths of the certificate and key in use, and of the CA clients should trust (if generated).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: Option<PathBuf>,
}

/// Build the rustls configuration; generate the certificate first if none is configured or kept.
pub(crate) fn server_config(
    cfg: &Config,
) -> Result<(Arc<ServerConfig>, Arc<Certificates>), String> {
    let files = match (&cfg.tls.cert, &cfg.tls.key) {
        (Some(c), Some(k)) => TlsFiles {
            cert: c.clone(),
            key: k.clone(),
            ca: None,
        },
        _ => ensure_generated(&cfg.data_dir, &cfg.tls.generated_names)?,
    };
    let certs = Arc::new(Certificates::load(files.clone())?);
    let config = builder(cfg)?.with_cert_resolver(certs.clone());
    Ok((Arc::new(config), certs))
}

/// The portal's rustls configuration (docs/portal.md): the same certificate as LDAPS (so a
/// reload serves both), the same optional client certificates, and ALPN `http/1.1`.
pub(crate) fn portal_config(
    cfg: &Config,
    certs: &Arc<Certificates>,
) -> Result<Arc<ServerConfig>, String> {
    let mut config = builder(cfg)?.with_cert_resolver(certs.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The protocol versions and the client certificate verifier, before the certificate.
fn builder(
    cfg: &Config,
) -> Result<rustls::ConfigBuilder<ServerConfig, rustls::server::WantsServerCert>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?;
    Ok(match &cfg.tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            // Client certificates are optional: they only matter for SASL EXTERNAL.
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca)
                .map_err(|e| format!("cannot read client CA {}: {e}", ca.display()))?
            {
                let c = c.map_err(|e| format!("invalid client CA PEM {}: {e}", ca.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("client CA {}: {e}", ca.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| format!("client CA {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    })
}

/// The server's certificate and key, read from their files at start and again on reload
/// (SIGHUP): new handshakes get the new certificate, open connections keep theirs.
#[derive(Debug)]
pub struct Certificates {
    pub files: TlsFiles,
    current: std::sync::RwLock<Arc<rustls::sign::CertifiedKey>>,
}

impl Certificates {
    fn load(files: TlsFiles) -> Result<Certificates, String> {
        let key = read_key(&files)?;
        Ok(Certificates {
            files,
            current: std::sync::RwLock::new(key),
        })
    }

    /// Read the files again; on any error the certificate in use stays.
    pub fn reload(&self) -> Result<(), String> {
        let key = read_key(&self.files)?;
        match self.current.write() {
            Ok(mut g) => *g = key,
            Err(p) => *p.into_inner() = key,
        }
        Ok(())
    }
}

impl rustls::server::ResolvesServerCert for Certificates {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        })
    }
}

/// The certificate chain and private key of `files`, checked to fit together.
fn read_key(files: &TlsFiles) -> Result<Arc<rustls::sign::CertifiedKey>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format!("cannot read certificate {}: {e}", files.cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("invalid certificate PEM {}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("cannot read private key {}: {e}", files.key.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let ck = rustls::sign::CertifiedKey::from_der(certs, key, &provider)
        .map_err(|e| format!("certificate and key do not fit together: {e}"))?;
    Ok(Arc::new(ck))
}

/// Keep (or create) `ca.pem` + `server.pem`/`server.key` in the data dir.
fn ensure_generated(dir: &Path, extra_names: &[String]) -> Result<TlsFiles, String> {
    let files = TlsFiles {
        cert: dir.join(CERT_FILE),
        key: dir.join(KEY_FILE),
        ca: Some(dir.join(CA_FILE)),
    };
    if files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    let (ca_pem, ca_key_pem, cert_pem, key_pem) =
        generate(extra_names).map_err(|e| format!("certificate generation failed: {e}"))?;
    write_file(&dir.join(CA_FILE), ca_pem.as_bytes(), false)?;
    write_file(&dir.join(CA_KEY_FILE), ca_key_pem.as_bytes(), true)?;
    write_file(&files.key, key_pem.as_bytes(), true)?;
    write_file(&files.cert, cert_pem.as_bytes(), false)?;
    tracing::info!(
        ca = %dir.join(CA_FILE).display(),
        "generated a CA and a server certificate for localhost; clients trust it with LDAPTLS_CACERT={}",
        dir.join(CA_FILE).display()
    );
    Ok(files)
}

/// A CA and a server certificate signed by it: (ca cert, ca key, server cert, server key) PEM.
pub fn generate(extra_names: &[String]) -> Result<(String, String, String, String), rcgen::Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ccdir local CA");
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "ccdir");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = time::OffsetDateTime::now_utc();
    ca_params.not_before = now - time::Duration::days(1);
    ca_params.not_after = now + time::Duration::days(3650);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);

    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    names.extend(extra_names.iter().cloned());
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(825);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((
        ca_cert.pem(),
        ca_key.serialize_pem(),
        cert.pem(),
        key.serialize_pem(),
    ))
}

/// Write a file; private ones are created with mode 0600.
pub(crate) fn write_file(path: &Path, data: &[u8], private: bool) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let _ = private;
    let mut f = opts
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
