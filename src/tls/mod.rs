//! TLS for every connection, as the mysql and mariadb clients take it: the settings
//! (`--ssl-mode` and its MariaDB spellings, `--ssl-ca`, `--ssl-capath`, `--ssl-cert`,
//! `--ssl-key`, from flags, `--url` and option files), the driver's [`SslOpts`] they make,
//! and a TLS failure told as one line naming its cause.
//!
//! The driver (rustls on ring) either requires TLS or does not use it; PREFERRED is ours:
//! [`crate::conn::ConnConfig::connect`] asks for TLS and, when the server offers none,
//! connects again in plain text. A Unix socket is local and needs no TLS: it never gets it,
//! whatever the mode (the server counts a socket as secure transport too).

mod explain;
mod provider;

pub use explain::{explain, incompatible};

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use anyhow::{bail, Context};
use mysql::{ClientIdentity, SslOpts};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How much TLS a TCP connection must have, as the mysql client's `--ssl-mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum SslMode {
    /// Plain text, even when the server offers TLS.
    Disabled,
    /// TLS when the server offers it, unverified; plain text otherwise.
    #[default]
    Preferred,
    /// TLS or no connection; the certificate is not checked.
    Required,
    /// TLS with a certificate signed by a trusted CA.
    VerifyCa,
    /// As VerifyCa, and the certificate names the host connected to.
    VerifyIdentity,
}

impl SslMode {
    pub const NAMES: [&'static str; 5] = [
        "DISABLED",
        "PREFERRED",
        "REQUIRED",
        "VERIFY_CA",
        "VERIFY_IDENTITY",
    ];

    fn verifies(self) -> bool {
        self >= SslMode::VerifyCa
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SslMode::NAMES[*self as usize])
    }
}

impl FromStr for SslMode {
    type Err = String;

    /// Any case, `-` or `_`: `VERIFY_CA`, `verify-ca`.
    fn from_str(s: &str) -> Result<SslMode, String> {
        let norm = s.trim().to_ascii_uppercase().replace('-', "_");
        let modes = [
            SslMode::Disabled,
            SslMode::Preferred,
            SslMode::Required,
            SslMode::VerifyCa,
            SslMode::VerifyIdentity,
        ];
        modes
            .into_iter()
            .find(|m| SslMode::NAMES[*m as usize] == norm)
            .ok_or_else(|| {
                format!(
                    "unknown SSL mode {s:?} (one of {})",
                    SslMode::NAMES.join(", ")
                )
            })
    }
}

/// What one source (the flags, `--url`, an option file) says about TLS; unset stays unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsLayer {
    pub mode: Option<LayerMode>,
    pub ca: Option<PathBuf>,
    pub capath: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// A mode as one source sets it: `--ssl-mode X` sets X; MariaDB's `--ssl` asks for TLS
/// and keeps a verification an earlier source asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerMode {
    Exactly(SslMode),
    AtLeastRequired,
}

impl LayerMode {
    /// The mode one source sets, from `--ssl-mode` and MariaDB's switches, the first given
    /// winning: `--ssl-mode`, `--ssl-verify-server-cert`, `--skip-ssl`, `--ssl` (where
    /// `ssl=0` in an option file means no TLS).
    pub fn from_switches(
        exact: Option<SslMode>,
        verify_server_cert: bool,
        skip_ssl: bool,
        ssl: Option<bool>,
    ) -> Option<LayerMode> {
        if let Some(m) = exact {
            Some(LayerMode::Exactly(m))
        } else if verify_server_cert {
            Some(LayerMode::Exactly(SslMode::VerifyIdentity))
        } else if skip_ssl || ssl == Some(false) {
            Some(LayerMode::Exactly(SslMode::Disabled))
        } else {
            ssl.map(|_| LayerMode::AtLeastRequired)
        }
    }
}

impl TlsLayer {
    /// The layer an option file's options (or a URL's parameters) give, by their client
    /// names (see `optfile::resolve`: `skip-ssl` is `ssl` off): `ssl-mode`,
    /// `ssl`, `ssl-verify-server-cert`, `ssl-ca`, `ssl-capath`, `ssl-cert`, `ssl-key`. A
    /// boolean with a value the client does not take is an error, never "off".
    pub fn from_options(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<TlsLayer> {
        let on = |k: &str| get(k).map(|v| crate::optfile::boolean(k, &v)).transpose();
        let exact = get("ssl-mode")
            .map(|m| {
                m.parse()
                    .map_err(|e: String| anyhow::anyhow!("ssl-mode: {e}"))
            })
            .transpose()?;
        let ssl = on("ssl")?;
        let mode = LayerMode::from_switches(
            exact,
            on("ssl-verify-server-cert")? == Some(true),
            ssl == Some(false),
            ssl.filter(|on| *on),
        );
        // An empty path is a mistake (a variable that was not set), never "no file".
        let path = |k: &str| match get(k) {
            Some(v) if v.is_empty() => {
                anyhow::bail!("{k}: an empty path (name the file, or leave {k} out)")
            }
            v => Ok(v.map(PathBuf::from)),
        };
        Ok(TlsLayer {
            mode,
            ca: path("ssl-ca")?,
            capath: path("ssl-capath")?,
            cert: path("ssl-cert")?,
            key: path("ssl-key")?,
        })
    }
}

/// The TLS settings of a connection, resolved from every source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls {
    pub mode: SslMode,
    pub ca: Option<PathBuf>,
    pub capath: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl Tls {
    /// Merge layers, lowest precedence first. Without a mode, a CA given means VERIFY_CA
    /// (as the mysql client has it), and none means PREFERRED.
    pub fn resolve(layers: impl IntoIterator<Item = TlsLayer>) -> Tls {
        let mut mode: Option<SslMode> = None;
        let mut t = Tls::default();
        for l in layers {
            mode = match l.mode {
                Some(LayerMode::Exactly(m)) => Some(m),
                Some(LayerMode::AtLeastRequired) => {
                    Some(mode.unwrap_or(SslMode::Required).max(SslMode::Required))
                }
                None => mode,
            };
            t.ca = l.ca.or(t.ca);
            t.capath = l.capath.or(t.capath);
            t.cert = l.cert.or(t.cert);
            t.key = l.key.or(t.key);
        }
        t.mode = mode.unwrap_or(if t.ca.is_some() || t.capath.is_some() {
            SslMode::VerifyCa
        } else {
            SslMode::Preferred
        });
        t
    }

    /// Check the files before any connection, so that a mistake is named by its flag and
    /// file rather than by a handshake failure.
    pub fn check(&self) -> anyhow::Result<()> {
        match (&self.cert, &self.key) {
            (Some(_), None) => bail!("--ssl-cert needs --ssl-key (the certificate's private key)"),
            (None, Some(_)) => bail!("--ssl-key needs --ssl-cert (the certificate it goes with)"),
            (Some(cert), Some(key)) => {
                let pem = certificates("--ssl-cert", cert)?;
                let der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    anyhow::anyhow!("--ssl-key {}: no private key read ({e})", key.display())
                })?;
                let first = CertificateDer::pem_slice_iter(&pem)
                    .next()
                    .and_then(Result::ok);
                if first.and_then(|c| provider::check_pair(&c, der)) == Some(false) {
                    bail!(
                        "--ssl-key {} does not match --ssl-cert {}",
                        key.display(),
                        cert.display()
                    );
                }
            }
            (None, None) => {}
        }
        if let Some(ca) = &self.ca {
            certificates("--ssl-ca", ca)?;
        }
        if let Some(dir) = &self.capath {
            capath_certificates(dir)?;
        }
        Ok(())
    }

    /// The driver's options for a TCP connection: `None` for plain text.
    pub fn ssl_opts(&self) -> anyhow::Result<Option<SslOpts>> {
        if self.mode == SslMode::Disabled {
            return Ok(None);
        }
        provider::install();
        let verify = self.mode.verifies();
        let mut o = SslOpts::default()
            .with_danger_accept_invalid_certs(!verify)
            .with_danger_skip_domain_validation(self.mode != SslMode::VerifyIdentity);
        if verify {
            o = o.with_root_cert_path(self.roots()?);
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            o = o.with_client_identity(Some(ClientIdentity::new(cert.clone(), key.clone())));
        }
        Ok(Some(o))
    }

    /// The file of trusted CAs the driver reads: `--ssl-ca` as it is, or, with
    /// `--ssl-capath`, one bundle of the folder's certificate files (and `--ssl-ca`),
    /// written once per process to an unlinked file read through `/dev/fd`.
    fn roots(&self) -> anyhow::Result<Option<PathBuf>> {
        static BUNDLE: OnceLock<(std::fs::File, PathBuf)> = OnceLock::new();
        let Some(dir) = &self.capath else {
            return Ok(self.ca.clone());
        };
        if let Some((_, p)) = BUNDLE.get() {
            return Ok(Some(p.clone()));
        }
        let mut pem = capath_certificates(dir)?;
        if let Some(ca) = &self.ca {
            pem.extend(certificates("--ssl-ca", ca)?);
        }
        let mut f = tempfile::tempfile().context("--ssl-capath: making the CA bundle")?;
        f.write_all(&pem)
            .context("--ssl-capath: writing the CA bundle")?;
        let path = fd_path(&f);
        let (_, p) = BUNDLE.get_or_init(|| (f, path));
        Ok(Some(p.clone()))
    }
}

fn fd_path(f: &std::fs::File) -> PathBuf {
    use std::os::fd::AsRawFd as _;
    PathBuf::from(format!("/dev/fd/{}", f.as_raw_fd()))
}

/// A PEM file of certificates, as it is: checked to hold at least one.
fn certificates(flag: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("{flag} {}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.display()))?;
    if certs.is_empty() {
        bail!(
            "{flag} {}: no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(bytes)
}

/// The PEM files of certificates in a folder (the mysql client's `--ssl-capath`), one
/// after another; files that hold none are passed over, as OpenSSL's hashed-name folders
/// hold other files.
fn capath_certificates(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let rd = std::fs::read_dir(dir).with_context(|| format!("--ssl-capath {}", dir.display()))?;
    let mut files: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.is_file()) {
        if let Ok(pem) = certificates("--ssl-capath", f) {
            out.extend(pem);
            out.push(b'\n');
        }
    }
    if out.is_empty() {
        bail!("--ssl-capath {}: no PEM certificate in it", dir.display());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layer of an option file with these lines.
    fn layer(pairs: &[(&str, &str)]) -> TlsLayer {
        let o = crate::optfile::Options {
            entries: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
                .collect(),
        };
        TlsLayer::from_options(|k| o.get(k)).unwrap()
    }

    #[test]
    fn modes_parse_in_any_spelling() {
        assert_eq!("verify-ca".parse(), Ok(SslMode::VerifyCa));
        assert_eq!("VERIFY_IDENTITY".parse(), Ok(SslMode::VerifyIdentity));
        assert_eq!("Disabled".parse(), Ok(SslMode::Disabled));
        assert!("on".parse::<SslMode>().unwrap_err().contains("VERIFY_CA"));
        for m in SslMode::NAMES {
            assert_eq!(m.parse::<SslMode>().unwrap().to_string(), m);
        }
    }

    // See: #23 (hostile review, round 3): an empty path is an error, not "no file".
    #[test]
    fn an_empty_path_is_refused() {
        for k in ["ssl-ca", "ssl-capath", "ssl-cert", "ssl-key"] {
            let e = TlsLayer::from_options(|x| (x == k).then(String::new)).unwrap_err();
            assert!(e.to_string().contains("an empty path"), "{k}: {e}");
        }
    }

    // See: #16 (TLS): the mode as the mysql client resolves it.
    #[test]
    fn the_mode_follows_the_client() {
        let resolve = |ls: &[&[(&str, &str)]]| Tls::resolve(ls.iter().map(|l| layer(l))).mode;
        assert_eq!(resolve(&[]), SslMode::Preferred);
        // A CA without a mode verifies it.
        assert_eq!(resolve(&[&[("ssl-ca", "/ca.pem")]]), SslMode::VerifyCa);
        assert_eq!(
            resolve(&[&[("ssl-ca", "/ca.pem"), ("ssl-mode", "required")]]),
            SslMode::Required
        );
        // MariaDB's spellings.
        assert_eq!(resolve(&[&[("ssl", "")]]), SslMode::Required);
        assert_eq!(resolve(&[&[("ssl", "0")]]), SslMode::Disabled);
        assert_eq!(resolve(&[&[("skip-ssl", "")]]), SslMode::Disabled);
        assert_eq!(
            resolve(&[&[("ssl-verify-server-cert", "")]]),
            SslMode::VerifyIdentity
        );
        // A later source wins; `--ssl` keeps an earlier verification.
        assert_eq!(
            resolve(&[&[("ssl-mode", "VERIFY_IDENTITY")], &[("ssl", "1")]]),
            SslMode::VerifyIdentity
        );
        assert_eq!(
            resolve(&[
                &[("ssl-mode", "VERIFY_IDENTITY")],
                &[("ssl-mode", "disabled")]
            ]),
            SslMode::Disabled
        );
        assert_eq!(
            resolve(&[&[("skip-ssl", "")], &[("ssl", "")]]),
            SslMode::Required
        );
    }

    #[test]
    fn unverified_modes_accept_any_certificate() {
        let t = Tls {
            mode: SslMode::Required,
            ca: Some("/nowhere/ca.pem".into()),
            ..Tls::default()
        };
        let o = t.ssl_opts().unwrap().unwrap();
        assert!(o.accept_invalid_certs() && o.skip_domain_validation());
        assert!(o.root_cert_path().is_none());
        let t = Tls {
            mode: SslMode::VerifyIdentity,
            ca: Some("/ca.pem".into()),
            ..Tls::default()
        };
        let o = t.ssl_opts().unwrap().unwrap();
        assert!(!o.accept_invalid_certs() && !o.skip_domain_validation());
        assert_eq!(o.root_cert_path(), Some(Path::new("/ca.pem")));
        let t = Tls {
            mode: SslMode::Disabled,
            ..Tls::default()
        };
        assert!(t.ssl_opts().unwrap().is_none());
    }

    #[test]
    fn files_are_checked_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let t = Tls {
            ca: Some(junk.clone()),
            ..Tls::default()
        };
        let e = t.check().unwrap_err().to_string();
        assert!(
            e.starts_with("--ssl-ca ") && e.contains("no certificate"),
            "{e}"
        );
        let t = Tls {
            cert: Some(junk.clone()),
            ..Tls::default()
        };
        assert!(t
            .check()
            .unwrap_err()
            .to_string()
            .contains("needs --ssl-key"));
        let t = Tls {
            capath: Some(dir.path().into()),
            ..Tls::default()
        };
        let e = t.check().unwrap_err().to_string();
        assert!(e.contains("no PEM certificate"), "{e}");
    }
}
