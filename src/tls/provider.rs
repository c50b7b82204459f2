//! The crypto provider every TLS connection of the process builds on (the driver takes
//! rustls' process default): ring, with AES-128-GCM offered first, and with keys that
//! leave the check of a client certificate against its key to qtools.
//!
//! rustls checks that a client certificate matches its key by parsing the certificate
//! with webpki, which refuses X.509 version 1 certificates (what OpenSSL 3.0's `x509 -req`
//! makes without `-extfile`, the MariaDB documentation's recipe), so such a certificate,
//! which the mysql client uses without fuss, could not be presented at all. The keys this
//! provider loads do not show rustls their public key, which skips that check, and
//! [`check_pair`] makes it instead, on the certificate's DER, whatever its version.

use std::sync::Arc;

use rustls::crypto::KeyProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};

/// Offer AES-128-GCM first. The driver builds its TLS settings on the process's rustls
/// provider, whose order (AES-256 first) a server that follows the client's preference, as
/// MariaDB and MySQL do, takes as it is; AES-128 does 10 rounds where AES-256 does 14, on
/// both sides of a bulk export, for a strength no attacker of a database link comes near.
/// Every suite stays offered, so what could connect before still connects.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut p = rustls::crypto::ring::default_provider();
        p.cipher_suites.sort_by_key(|s| {
            use rustls::CipherSuite as S;
            let aes128 = matches!(
                s.suite(),
                S::TLS13_AES_128_GCM_SHA256
                    | S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                    | S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
            );
            (s.tls13().is_none(), !aes128)
        });
        p.key_provider = &KEYS;
        // Another provider may be installed already (by an embedding program): keep it.
        let _ = p.install_default();
    });
}

/// Ring's keys, without their public key (see the module doc).
#[derive(Debug)]
struct Keys;

static KEYS: Keys = Keys;

impl KeyProvider for Keys {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        let inner = rustls::crypto::ring::default_provider()
            .key_provider
            .load_private_key(key_der)?;
        Ok(Arc::new(Unexposed(inner)))
    }
}

/// A signing key that keeps its public key to itself.
#[derive(Debug)]
struct Unexposed(Arc<dyn SigningKey>);

impl SigningKey for Unexposed {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        self.0.choose_scheme(offered)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.0.algorithm()
    }
}

/// Does the private key `key` go with the certificate `cert` (their SubjectPublicKeyInfo
/// compared, as rustls would)? `None` when it cannot tell (a key type ring does not load
/// is refused later, by the handshake).
pub fn check_pair(cert: &CertificateDer<'_>, key: PrivateKeyDer<'static>) -> Option<bool> {
    let loaded = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(key)
        .ok()?;
    let ours = loaded.public_key()?;
    Some(spki(cert)? == ours.as_ref())
}

/// The SubjectPublicKeyInfo of a DER certificate, whatever its version: the seventh
/// element of the TBSCertificate, or the sixth when the (optional) version is absent.
fn spki(cert: &[u8]) -> Option<&[u8]> {
    let (certificate, _) = tlv(cert)?;
    let (tbs, _) = tlv(certificate)?;
    let mut rest = tbs;
    let mut index = 0;
    loop {
        let (whole, next) = element(rest)?;
        // [0] EXPLICIT version, first when present: not counted.
        if !(index == 0 && whole[0] == 0xA0) {
            index += 1;
        }
        if index == 6 {
            return Some(whole);
        }
        rest = next;
    }
}

/// The content of the DER element at the start of `b`, and what follows it.
fn tlv(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (whole, rest) = element(b)?;
    let header = whole.len() - content_len(whole)?;
    Some((&whole[header..], rest))
}

/// The DER element at the start of `b` (header and content), and what follows it.
fn element(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = content_len(b)?;
    let header = header_len(b)?;
    let end = header.checked_add(len)?;
    (end <= b.len()).then(|| b.split_at(end))
}

fn header_len(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    Some(if first < 0x80 {
        2
    } else {
        2 + usize::from(first & 0x7f)
    })
}

fn content_len(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some(usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    b.get(2..2 + n)?
        .iter()
        .try_fold(0usize, |acc, &d| Some((acc << 8) | usize::from(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #16 (TLS cost): the provider the driver builds on offers AES-128-GCM first in
    // each protocol version, and every suite it offered before.
    #[test]
    fn aes128_is_offered_first() {
        install();
        let p = rustls::crypto::CryptoProvider::get_default().unwrap();
        let names: Vec<&str> = p
            .cipher_suites
            .iter()
            .map(|s| s.suite().as_str().unwrap())
            .collect();
        assert_eq!(names[0], "TLS13_AES_128_GCM_SHA256");
        let first12 = names.iter().position(|n| !n.starts_with("TLS13")).unwrap();
        assert!(names[first12].contains("AES_128_GCM"), "{names:?}");
        assert!(names[..first12].iter().all(|n| n.starts_with("TLS13")));
        let mut sorted = names.clone();
        sorted.sort_unstable();
        let mut all: Vec<&str> = rustls::crypto::ring::default_provider()
            .cipher_suites
            .iter()
            .map(|s| s.suite().as_str().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(sorted, all);
    }
}
