//! The HTTP/1.1 side of `qexport --serve`: a request read with `httparse` (the parser
//! hyper is built on) under limits (16 KiB of head, 64 headers; the socket's read timeout
//! bounds a slow or silent client), one request per connection (`Connection: close`), and
//! a body streamed with chunked transfer encoding, gzipped when the client asks.
//!
//! Why not a server crate: the maintained synchronous ones (tiny_http, astra) either hide
//! the socket (no read or write timeout for a stalled client) or bring a second TLS stack;
//! the part that meets untrusted bytes, the parser, is httparse's. See docs/serve.md.

use std::fmt::Write as _;
use std::io::{self, Read, Write};

use flate2::write::GzEncoder;

/// The most a request's head may take.
const MAX_HEAD: usize = 16 * 1024;

/// A request's line and headers.
#[derive(Debug)]
pub(super) struct Request {
    pub(super) method: String,
    /// As sent: path and query, still percent-encoded.
    pub(super) target: String,
    pub(super) headers: Vec<(String, String)>,
}

impl Request {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(super) enum Refused {
    /// Not HTTP/1.x as it should be: 400.
    Malformed(&'static str),
    /// A head over [`MAX_HEAD`]: 431.
    TooLarge,
    /// The client went away, or said nothing before the timeout: no answer.
    Gone,
}

/// Read one request's head, whole within `within` (a client that trickles its head a
/// byte at a time, each before the socket's timeout, is cut off all the same).
pub(super) fn read_request(
    r: &mut impl Read,
    within: std::time::Duration,
) -> Result<Request, Refused> {
    let until = std::time::Instant::now() + within;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if std::time::Instant::now() > until {
            return Err(Refused::Gone);
        }
        let n = match r.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(Refused::Gone),
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            // Chunked bodies are HTTP/1.1's: a 1.0 client could not read them.
            Ok(httparse::Status::Complete(_)) if req.version != Some(1) => {
                return Err(Refused::Malformed("HTTP/1.1 only"))
            }
            Ok(httparse::Status::Complete(_)) => {
                return Ok(Request {
                    method: req.method.unwrap_or_default().to_owned(),
                    target: req.path.unwrap_or_default().to_owned(),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_owned(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect(),
                })
            }
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(Refused::TooLarge),
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(Refused::TooLarge),
            Err(_) => return Err(Refused::Malformed("not an HTTP/1.1 request")),
        }
    }
}

/// A whole answer with a short body (an index, an error): returns the bytes of the body.
pub(super) fn answer(
    w: &mut impl Write,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
    head_only: bool,
) -> io::Result<u64> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (n, v) in headers {
        let _ = write!(head, "{n}: {v}\r\n");
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    }
    let _ = write!(
        head,
        "X-Content-Type-Options: nosniff\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    w.write_all(head.as_bytes())?;
    if !head_only {
        w.write_all(body)?;
    }
    w.flush()?;
    Ok(if head_only { 0 } else { body.len() as u64 })
}

/// The head of a streamed answer (chunked).
pub(super) fn stream_head(w: &mut impl Write, headers: &[(&str, String)]) -> io::Result<()> {
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for (n, v) in headers {
        let _ = write!(head, "{n}: {v}\r\n");
    }
    head.push_str("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    w.write_all(head.as_bytes())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A body in chunks: each write is one chunk; the last, empty one is written by
/// [`Chunked::finish`] only, so that a body cut short by an error is seen as cut (the
/// client never reads the end of the transfer).
pub(super) struct Chunked<W: Write> {
    w: W,
    /// Bytes of body written (before the chunks' framing).
    pub(super) bytes: u64,
    /// Abandoned: nothing more is written (not even what a gzip encoder writes as it is
    /// dropped: its ending would make a cut body look whole).
    dead: bool,
}

impl<W: Write> Chunked<W> {
    pub(super) fn new(w: W) -> Self {
        Chunked {
            w,
            bytes: 0,
            dead: false,
        }
    }

    pub(super) fn finish(mut self) -> io::Result<u64> {
        self.w.write_all(b"0\r\n\r\n")?;
        self.w.flush()?;
        Ok(self.bytes)
    }
}

impl<W: Write> Write for Chunked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.dead {
            return Err(io::Error::other("the body was abandoned"));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        write!(self.w, "{:X}\r\n", buf.len())?;
        self.w.write_all(buf)?;
        self.w.write_all(b"\r\n")?;
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// A streamed body, gzipped or not.
pub(super) enum Body<W: Write> {
    Plain(Chunked<W>),
    Gzip(GzEncoder<Chunked<W>>),
}

impl<W: Write> Body<W> {
    pub(super) fn new(w: W, gzip: bool) -> Self {
        let c = Chunked::new(w);
        if gzip {
            Body::Gzip(GzEncoder::new(c, flate2::Compression::fast()))
        } else {
            Body::Plain(c)
        }
    }

    pub(super) fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Body::Plain(c) => c.write_all(b),
            Body::Gzip(g) => g.write_all(b),
        }
    }

    /// The body stops here, without its end (nor a gzip ending), after `mark` (the
    /// failure mark that makes a CSV reader fail too, for a client that does not check
    /// the transfer: `curl -s URL | qcount`). Returns the bytes of body sent.
    pub(super) fn abandon(self, mark: &[u8]) -> u64 {
        match self {
            Body::Plain(mut c) => {
                let _ = c.write_all(mark).and_then(|()| c.flush());
                c.dead = true;
                c.bytes
            }
            Body::Gzip(mut g) => {
                // A sync flush: the mark reaches the client, and the stream still lacks
                // its ending.
                let _ = g.write_all(mark).and_then(|()| g.flush());
                let c = g.get_mut();
                c.dead = true;
                c.bytes
            }
        }
    }

    /// The whole body is written: its end, and the bytes sent.
    pub(super) fn finish(self) -> io::Result<u64> {
        match self {
            Body::Plain(c) => c.finish(),
            Body::Gzip(g) => g.finish()?.finish(),
        }
    }
}

/// The client takes gzip: `Accept-Encoding` names it (or `*`) without `q=0`.
pub(super) fn takes_gzip(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        // `gzip;q=0` refuses it, whatever `*` says.
        let refused = a.split(',').any(|part| {
            let mut it = part.split(';');
            it.next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("gzip")
                && it.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q == 0.0)
                })
        });
        !refused
            && a.split(',').any(|part| {
                let mut it = part.split(';');
                let coding = it.next().unwrap_or_default().trim();
                let refused = it.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q == 0.0)
                });
                (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
            })
    })
}

/// `%XX` decoded, strictly: a bad escape, a NUL or bytes that are not UTF-8 are `None`.
pub(super) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    if out.contains(&0) {
        return None;
    }
    String::from_utf8(out).ok()
}

/// A name as a path segment: every byte but letters, digits and `-._~` as `%XX`.
pub(super) fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Text for HTML.
pub(super) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Equal, in a time that depends on the lengths only (a token's bytes are not told by
/// how long a wrong one takes to refuse).
pub(super) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_request_now(r: &mut impl Read) -> Result<Request, Refused> {
        read_request(r, std::time::Duration::from_secs(60))
    }

    #[test]
    fn a_request_is_read_under_limits() {
        let r = read_request_now(
            &mut &b"GET /t.csv?limit=2 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"[..],
        )
        .unwrap();
        assert_eq!(
            (r.method.as_str(), r.target.as_str()),
            ("GET", "/t.csv?limit=2")
        );
        assert_eq!(r.header("accept-encoding"), Some("gzip"));
        assert!(matches!(
            read_request_now(&mut &b"\x01\x02 nonsense\r\n\r\n"[..]),
            Err(Refused::Malformed(_))
        ));
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
        assert!(matches!(
            read_request_now(&mut big.as_bytes()),
            Err(Refused::TooLarge)
        ));
        assert!(matches!(
            read_request_now(&mut &b"GET / HT"[..]),
            Err(Refused::Gone)
        ));
    }

    #[test]
    fn chunks_end_only_when_finished() {
        let mut out = Vec::new();
        let mut c = Chunked::new(&mut out);
        c.write_all(b"abc").unwrap();
        assert_eq!(c.finish().unwrap(), 3);
        assert_eq!(out, b"3\r\nabc\r\n0\r\n\r\n");
    }

    #[test]
    fn names_and_codings() {
        assert_eq!(
            percent_decode("my%20t%C3%A9.csv").as_deref(),
            Some("my té.csv")
        );
        assert_eq!(percent_decode("a%00b"), None);
        assert_eq!(percent_decode("a%zz"), None);
        assert_eq!(percent_decode("a%"), None);
        assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
        assert!(takes_gzip(Some("gzip, deflate")));
        assert!(takes_gzip(Some("br;q=1, *;q=0.5")));
        assert!(!takes_gzip(Some("gzip;q=0")));
        assert!(!takes_gzip(Some("deflate, gzip;q=0, *")));
        assert_eq!(percent_decode("c%+1t"), None);
        assert!(!takes_gzip(None));
        assert!(
            same_secret(b"abc", b"abc")
                && !same_secret(b"abc", b"abd")
                && !same_secret(b"a", b"ab")
        );
        assert_eq!(html_escape("<a&\"'>"), "&lt;a&amp;&quot;&#39;&gt;");
    }
}
