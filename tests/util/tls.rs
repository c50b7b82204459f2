//! Throwaway certificates and a private server that requires TLS, for the TLS tests.
//!
//! Everything is made at the start of the run with rcgen: a CA, a server certificate for
//! `localhost` and `127.0.0.1`, a client certificate, and from a second, unrelated CA a
//! client certificate and an expired server certificate. Nothing that expires is
//! committed. The server runs with `require_secure_transport=ON` and listens on 127.0.0.1
//! and 127.0.0.2, the second an address its certificate does not name.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mysql::prelude::Queryable as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

use super::server::PrivateServer;

/// The certificate files, PEM.
pub struct Pki {
    pub dir: PathBuf,
}

impl Pki {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Make every file in `dir`.
    pub fn make(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let write = |name: &str, text: String| std::fs::write(dir.join(name), text).unwrap();
        let ca = |name: &str| {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            p.distinguished_name.push(DnType::CommonName, name);
            let cert = p.self_signed(&key).unwrap();
            (cert, key)
        };
        let main = ca("qtools test CA");
        let other = ca("an unrelated CA");
        write("ca.pem", main.0.pem());
        write("other-ca.pem", other.0.pem());
        let (c, k) = sign(
            leaf(&["localhost", "127.0.0.1"], "qtools test server"),
            &main,
        );
        write("server.pem", c);
        write("server-key.pem", k);
        let (c, k) = sign(leaf(&[], "qtools test client"), &main);
        write("client.pem", c);
        write("client-key.pem", k);
        let (c, k) = sign(leaf(&[], "a stranger"), &other);
        write("stranger.pem", c);
        write("stranger-key.pem", k);
        let mut expired = leaf(&["localhost", "127.0.0.1"], "an expired server");
        expired.0.not_before = rcgen::date_time_ymd(2020, 1, 1);
        expired.0.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let (c, k) = sign(expired, &main);
        write("expired.pem", c);
        write("expired-key.pem", k);
        Pki {
            dir: dir.to_owned(),
        }
    }

    /// Server options that serve `cert` (and its key) signed by ca.pem, requiring TLS.
    pub fn server_options(&self, cert: &str) -> String {
        format!(
            "--ssl-ca={} --ssl-cert={} --ssl-key={} --require-secure-transport=ON \
             --bind-address=127.0.0.1,127.0.0.2",
            self.path("ca.pem").display(),
            self.path(&format!("{cert}.pem")).display(),
            self.path(&format!("{cert}-key.pem")).display(),
        )
    }
}

/// Parameters of a certificate for `names` (host names or IP addresses), and its key.
fn leaf(names: &[&str], cn: &str) -> (CertificateParams, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    let mut p = CertificateParams::new(names).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    (p, key)
}

/// The certificate and key, PEM, of `leaf` signed by `issuer`.
fn sign(
    leaf: (CertificateParams, KeyPair),
    issuer: &(rcgen::Certificate, KeyPair),
) -> (String, String) {
    let cert = leaf.0.signed_by(&leaf.1, &issuer.0, &issuer.1).unwrap();
    (cert.pem(), leaf.1.serialize_pem())
}

/// The TLS server of this run, with its accounts:
/// `app` (password `app-secret-pw`) and `x509` (REQUIRE X509, no password).
pub struct TlsServer {
    pub pki: Pki,
    pub server: PrivateServer,
}

pub const APP_PASSWORD: &str = "app-secret-pw";

impl TlsServer {
    pub fn get() -> &'static TlsServer {
        static S: OnceLock<Result<TlsServer, String>> = OnceLock::new();
        match S.get_or_init(TlsServer::start) {
            Ok(s) => s,
            Err(e) => panic!("the TLS tests need a private MariaDB server with TLS: {e}"),
        }
    }

    fn start() -> Result<TlsServer, String> {
        let dir = PathBuf::from(format!(
            "{}/tls-{}",
            env!("CARGO_TARGET_TMPDIR"),
            std::process::id()
        ));
        let pki = Pki::make(&dir.join("pki"));
        // The certificates live in the server's folder, removed with it.
        let url = PrivateServer::start_for_the_run(&dir, &pki.server_options("server"))?;
        let server = PrivateServer { dir, url };
        let mut c = server.admin();
        for sql in [
            format!("CREATE USER app@'%' IDENTIFIED BY '{APP_PASSWORD}'"),
            "GRANT ALL ON *.* TO app@'%'".to_owned(),
            "CREATE USER x509@'%' REQUIRE X509".to_owned(),
            "GRANT ALL ON *.* TO x509@'%'".to_owned(),
        ] {
            c.query_drop(&sql).map_err(|e| format!("{sql}: {e}"))?;
        }
        Ok(TlsServer { pki, server })
    }

    /// A fresh database for one test, with table `t`.
    pub fn database(&self, test: &str) -> String {
        let name = format!("tls_{test}_{}", std::process::id());
        let mut c = self.server.admin();
        c.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
            .unwrap();
        c.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .unwrap();
        name
    }
}
