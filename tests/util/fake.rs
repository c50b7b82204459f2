//! A fake MySQL server that speaks just enough of the protocol (a handshake, OK to every
//! `SET`, `COM_PING`, `COM_INIT_DB`) to reach a tool's first real query, and answers that
//! query, and every one after it, with what a hostile or broken server sends.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How the fake server answers a query.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// `LOAD DATA LOCAL INFILE` in reverse: asks the client for this file.
    AskFile(&'static str),
    /// A result set whose column definition is cut short.
    Malformed,
    /// A result set of one column whose row holds three values.
    MoreValues,
    /// A row packet of 16 MiB - 1 bytes whose value goes on past the next packet's end.
    Oversized,
    /// No result set at all (an OK packet: a column count of zero).
    NoColumns,
}

pub struct Fake {
    pub port: u16,
    /// Bytes the clients sent after a request for a file (must stay 0).
    pub file_bytes: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Fake {
    pub fn start(answer: Answer) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let file_bytes = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (bytes, stop2) = (file_bytes.clone(), stop.clone());
        thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                        let (answer, bytes) = (answer, bytes.clone());
                        thread::spawn(move || {
                            let _ = session(s, &answer, &bytes);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Fake {
            port,
            file_bytes,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/db", self.port)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn send(s: &mut TcpStream, seq: &mut u8, payload: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(payload.len()).unwrap().to_le_bytes();
    s.write_all(&[len[0], len[1], len[2], *seq])?;
    s.write_all(payload)?;
    *seq = seq.wrapping_add(1);
    Ok(())
}

fn recv(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    recv_seq(s).map(|(_, p)| p)
}

/// A packet and its sequence number.
fn recv_seq(s: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 4];
    s.read_exact(&mut head)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p)?;
    Ok((head[3], p))
}

const OK: &[u8] = &[0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00];
const EOF: &[u8] = &[0xFE, 0x00, 0x00, 0x02, 0x00];

fn lenenc_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(u8::try_from(s.len()).unwrap());
    out.extend_from_slice(s);
}

fn column(name: &str) -> Vec<u8> {
    let mut c = Vec::new();
    for part in [
        &b"def"[..],
        b"db",
        b"t",
        b"t",
        name.as_bytes(),
        name.as_bytes(),
    ] {
        lenenc_str(&mut c, part);
    }
    // Fixed fields: utf8mb4, length 255, VAR_STRING, no flags, no decimals.
    c.extend_from_slice(&[0x0c, 0x2d, 0x00, 0xff, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0]);
    c
}

fn session(mut s: TcpStream, answer: &Answer, file_bytes: &AtomicUsize) -> std::io::Result<()> {
    // Protocol 41, secure connection, plugin auth, local files, multi results; no TLS.
    let caps: u32 =
        0x1 | 0x4 | 0x8 | 0x80 | 0x200 | 0x2000 | 0x8000 | 0x1_0000 | 0x2_0000 | 0x8_0000;
    let mut hs = vec![10];
    hs.extend_from_slice(b"5.7.99-fake\0");
    hs.extend_from_slice(&7u32.to_le_bytes());
    hs.extend_from_slice(b"abcdefgh\0");
    hs.extend_from_slice(&(caps as u16).to_le_bytes());
    hs.push(0x2d);
    hs.extend_from_slice(&2u16.to_le_bytes());
    hs.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    hs.push(21);
    hs.extend_from_slice(&[0; 10]);
    hs.extend_from_slice(b"ijklmnopqrst\0");
    hs.extend_from_slice(b"mysql_native_password\0");
    let mut seq = 0;
    send(&mut s, &mut seq, &hs)?;
    recv(&mut s)?;
    seq = 2;
    send(&mut s, &mut seq, OK)?;
    loop {
        let cmd = recv(&mut s)?;
        let mut seq = 1;
        match cmd.first() {
            Some(0x01) | None => return Ok(()),
            Some(0x03) if !cmd[1..].to_ascii_uppercase().starts_with(b"SET ") => {}
            Some(0x03 | 0x0e | 0x02 | 0x1a) => {
                send(&mut s, &mut seq, OK)?;
                continue;
            }
            // COM_STMT_PREPARE: statement 1, of one column and a parameter per `?`.
            Some(0x16) => {
                let params = memchr::memchr_iter(b'?', &cmd).count();
                let n = u8::try_from(params).unwrap();
                send(&mut s, &mut seq, &[0, 1, 0, 0, 0, 1, 0, n, 0, 0, 0, 0])?;
                if params > 0 {
                    for _ in 0..params {
                        send(&mut s, &mut seq, &column("?"))?;
                    }
                    send(&mut s, &mut seq, EOF)?;
                }
                send(&mut s, &mut seq, &column("a"))?;
                send(&mut s, &mut seq, EOF)?;
                continue;
            }
            // COM_STMT_CLOSE: no answer.
            Some(0x19) => continue,
            // COM_STMT_EXECUTE: answered as a query.
            Some(0x17) => {}
            Some(_) => {
                let mut err = vec![0xFF, 0x2F, 0x04, b'#'];
                err.extend_from_slice(b"HY000not supported by the fake server");
                send(&mut s, &mut seq, &err)?;
                continue;
            }
        }
        match answer {
            Answer::AskFile(path) => {
                let mut p = vec![0xFB];
                p.extend_from_slice(path.as_bytes());
                send(&mut s, &mut seq, &p)?;
                // The client's answer: the file's contents, then an empty packet.
                loop {
                    let (n, part) = recv_seq(&mut s)?;
                    if n == 0 {
                        // Not the file: the client's next command (a refusal).
                        return Ok(());
                    }
                    seq = seq.wrapping_add(1);
                    if part.is_empty() {
                        break;
                    }
                    file_bytes.fetch_add(part.len(), Ordering::Relaxed);
                }
                send(&mut s, &mut seq, OK)?;
            }
            Answer::NoColumns => send(&mut s, &mut seq, OK)?,
            Answer::Malformed => {
                send(&mut s, &mut seq, &[1])?;
                send(&mut s, &mut seq, &[3, b'd', b'e'])?;
                send(&mut s, &mut seq, EOF)?;
                send(&mut s, &mut seq, EOF)?;
            }
            Answer::MoreValues => {
                send(&mut s, &mut seq, &[1])?;
                send(&mut s, &mut seq, &column("a"))?;
                send(&mut s, &mut seq, EOF)?;
                send(&mut s, &mut seq, &[1, b'x', 1, b'y', 1, b'z'])?;
                send(&mut s, &mut seq, EOF)?;
            }
            Answer::Oversized => {
                send(&mut s, &mut seq, &[1])?;
                send(&mut s, &mut seq, &column("a"))?;
                send(&mut s, &mut seq, EOF)?;
                // One value of 20 MiB announced; 16 MiB - 1 + 10 bytes sent.
                let mut row = vec![0xFE];
                row.extend_from_slice(&(20u64 << 20).to_le_bytes());
                row.resize(0xFF_FFFF, b'v');
                send(&mut s, &mut seq, &row)?;
                send(&mut s, &mut seq, b"0123456789")?;
                send(&mut s, &mut seq, EOF)?;
            }
        }
    }
}
