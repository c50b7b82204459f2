//! A TLS failure told as one line naming its cause (and, where there is one, its fix),
//! never as the driver's or rustls' debug text.

use std::path::Path;

use super::Tls;

/// A TLS failure in `e`, told as its cause, or `None` when `e` is no TLS failure.
pub fn explain(e: &mysql::Error, tls: &Tls, host: &str) -> Option<String> {
    use rustls::CertificateError as C;
    if let mysql::Error::DriverError(mysql::DriverError::TlsNotSupported) = e {
        return Some(format!(
            "the server offers no TLS, and --ssl-mode {} needs it",
            tls.mode
        ));
    }
    let r = rustls_error(e)?;
    let said = words(&r.to_string());
    let trusted = || match (&tls.ca, &tls.capath) {
        (Some(ca), _) => format!("--ssl-ca {}", ca.display()),
        (None, Some(dir)) => format!("--ssl-capath {}", dir.display()),
        (None, None) => "the public CAs (no --ssl-ca given)".to_owned(),
    };
    if nothing_in_common(r) {
        return Some(format!(
            "TLS: the server's TLS and this client's have nothing in common ({said}); \
             this client speaks TLS 1.2 and 1.3"
        ));
    }
    Some(match r {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature => format!(
                "TLS: the server's certificate is not signed by a CA trusted here ({})",
                trusted()
            ),
            C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                "TLS: the server's certificate is not valid for {host:?} (--ssl-mode \
                 VERIFY_IDENTITY checks the name; connect by a name the certificate holds)"
            ),
            C::Expired | C::ExpiredContext { .. } => {
                "TLS: the server's certificate has expired".to_owned()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "TLS: the server's certificate is not valid yet (check the clocks)".to_owned()
            }
            C::Other(o) if v1(o) => format!(
                "TLS: the server's certificate is an X.509 version 1 certificate, which this \
                 client cannot verify (--ssl-mode {}): re-issue it as version 3 (openssl x509 \
                 -req ... -extfile with a subjectAltName), or connect with --ssl-mode REQUIRED",
                tls.mode
            ),
            _ => format!("TLS: the server's certificate was refused: {said}"),
        },
        rustls::Error::InconsistentKeys(_) => format!(
            "TLS: --ssl-key {} does not match --ssl-cert {}",
            shown(tls.key.as_deref()),
            shown(tls.cert.as_deref())
        ),
        rustls::Error::AlertReceived(_) => {
            format!("TLS: the server ended the handshake ({said}); is the client certificate one it trusts?")
        }
        _ => format!("TLS: the handshake failed: {said}"),
    })
}

/// rustls' text with the names of its enums in words: `received fatal alert: UnknownCA`
/// reads `received fatal alert: unknown CA`.
fn words(text: &str) -> String {
    let word = |whole: &str| -> String {
        let w = whole.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        let rest = &whole[w.len()..];
        let camel = w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && w.chars().all(|c| c.is_ascii_alphanumeric())
            && w.as_bytes()
                .windows(2)
                .any(|p| p[0].is_ascii_lowercase() && p[1].is_ascii_uppercase());
        if !camel {
            return whole.to_owned();
        }
        // Split before an upper-case letter that starts a word: after a lower-case one,
        // or before a lower-case one (`CAKey` is `CA key`).
        let b = w.as_bytes();
        let mut parts = Vec::new();
        let mut start = 0;
        for i in 1..b.len() {
            let up = b[i].is_ascii_uppercase();
            let after_lower = b[i - 1].is_ascii_lowercase() || b[i - 1].is_ascii_digit();
            let before_lower = b.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            if up && (after_lower || (b[i - 1].is_ascii_uppercase() && before_lower)) {
                parts.push(&w[start..i]);
                start = i;
            }
        }
        parts.push(&w[start..]);
        parts
            .iter()
            .map(|p| {
                let acronym = p.len() > 1 && p.bytes().all(|c| !c.is_ascii_lowercase());
                if acronym {
                    (*p).to_owned()
                } else {
                    p.to_ascii_lowercase()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
            + rest
    };
    text.split(' ').map(word).collect::<Vec<_>>().join(" ")
}

fn shown(p: Option<&Path>) -> String {
    p.map_or_else(String::new, |p| p.display().to_string())
}

/// Whether `e` says the server's TLS and ours have nothing in common (an old server with
/// TLS 1.1 at most, or ciphers rustls does not offer): not a certificate refused, nor a
/// mistake in our own files, which no mode may pass over.
pub fn incompatible(e: &mysql::Error) -> bool {
    rustls_error(e).is_some_and(nothing_in_common)
}

fn nothing_in_common(r: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        r,
        rustls::Error::PeerIncompatible(_)
            | rustls::Error::InvalidMessage(_)
            | rustls::Error::AlertReceived(
                A::ProtocolVersion | A::HandshakeFailure | A::InsufficientSecurity
            )
    )
}

/// The rustls error inside a driver error, however deep: the handshake runs on the first
/// read or write, so its errors come back as I/O errors around the rustls one.
fn rustls_error(e: &mysql::Error) -> Option<&rustls::Error> {
    let mut cur: &(dyn std::error::Error + 'static) = match e {
        mysql::Error::TlsError(mysql::error::tls::TlsError::Tls(r)) => return Some(r),
        mysql::Error::IoError(io) => io,
        mysql::Error::CodecError(c) => c,
        _ => return None,
    };
    for _ in 0..8 {
        if let Some(r) = cur.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        cur = match cur.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref()?,
            None => cur.source()?,
        };
    }
    None
}

/// An X.509 version 1 certificate, which webpki does not verify (OpenSSL 3.0's `x509
/// -req` makes them without `-extfile`).
fn v1(o: &rustls::OtherError) -> bool {
    matches!(
        o.0.downcast_ref::<webpki::Error>(),
        Some(webpki::Error::UnsupportedCertVersion)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::SslMode;

    // See: #16 (TLS): PREFERRED passes over a TLS it cannot speak (an old server's), never
    // over a refused certificate or a mistake in our own files; each reads as its cause.
    #[test]
    fn handshake_failures_are_told_apart() {
        use rustls::{AlertDescription as A, CertificateError as C, Error as E};
        let wrapped =
            |r: E| mysql::Error::IoError(std::io::Error::new(std::io::ErrorKind::InvalidData, r));
        let tls = Tls {
            mode: SslMode::VerifyIdentity,
            ca: Some("ca.pem".into()),
            cert: Some("c.pem".into()),
            key: Some("k.pem".into()),
            ..Tls::default()
        };
        let told = |r: E| explain(&wrapped(r), &tls, "db1").unwrap();
        assert!(incompatible(&wrapped(E::AlertReceived(A::ProtocolVersion))));
        assert!(incompatible(&mysql::Error::TlsError(
            mysql::error::tls::TlsError::Tls(E::PeerIncompatible(
                rustls::PeerIncompatible::Tls12NotOffered
            ))
        )));
        assert!(told(E::AlertReceived(A::ProtocolVersion)).contains("TLS 1.2 and 1.3"));
        for own in [
            E::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch),
            E::InvalidCertificate(C::UnknownIssuer),
            E::InvalidCertificate(C::Expired),
            E::AlertReceived(A::UnknownCA),
        ] {
            assert!(!incompatible(&wrapped(own)));
        }
        assert_eq!(
            told(E::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)),
            "TLS: --ssl-key k.pem does not match --ssl-cert c.pem"
        );
        assert!(told(E::InvalidCertificate(C::UnknownIssuer)).contains("(--ssl-ca ca.pem)"));
        assert!(told(E::InvalidCertificate(C::NotValidForName)).contains("\"db1\""));
        assert!(told(E::InvalidCertificate(C::Expired)).contains("has expired"));
        assert_eq!(
            told(E::AlertReceived(A::UnknownCA)),
            "TLS: the server ended the handshake (received fatal alert: unknown CA); is the \
             client certificate one it trusts?"
        );
        assert_eq!(
            words("peer is incompatible: NoCipherSuitesInCommon"),
            "peer is incompatible: no cipher suites in common"
        );
        assert_eq!(
            words("alert: HandshakeFailure, BadCAKey x"),
            "alert: handshake failure, bad CA key x"
        );
        let refused = mysql::Error::DriverError(mysql::DriverError::TlsNotSupported);
        assert!(!incompatible(&refused));
        assert_eq!(
            explain(&refused, &tls, "db1").unwrap(),
            "the server offers no TLS, and --ssl-mode VERIFY_IDENTITY needs it"
        );
    }
}
