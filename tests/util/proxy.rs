//! A TCP proxy between a tool and the test server that misbehaves on cue, as networks do:
//! it stops forwarding in the middle of a stream (a firewall or NAT that drops a
//! connection's packets but keeps it), cuts the connection, or delays every chunk.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Which way a fault strikes: towards the server (what a tool sends, a load) or towards
/// the client (what it reads, an export).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    ToServer,
    ToClient,
}

/// What the proxy does to each connection.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Forwards each chunk after this delay.
    Delay(Duration),
    /// After this many bytes one way, forwards nothing more either way and reads nothing
    /// more (the sender's writes then block once the buffers fill), holding both
    /// connections open until the proxy is dropped.
    Stall(Way, usize),
    /// After this many bytes one way, cuts both connections (as a server that dies, or a
    /// middlebox that drops them).
    Cut(Way, usize),
}

pub struct Proxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    /// Every connection both ways, to close at the end.
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// A proxy on a free local port to `127.0.0.1:target`.
    pub fn start(target: u16, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (stop2, open2) = (stop.clone(), open.clone());
        thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let server = TcpStream::connect(("127.0.0.1", target)).unwrap();
                        {
                            let mut o = open2.lock().unwrap();
                            o.push(client.try_clone().unwrap());
                            o.push(server.try_clone().unwrap());
                        }
                        let stalled = Arc::new(AtomicBool::new(false));
                        for way in [Way::ToServer, Way::ToClient] {
                            let (from, to) = match way {
                                Way::ToServer => (client.try_clone(), server.try_clone()),
                                Way::ToClient => (server.try_clone(), client.try_clone()),
                            };
                            let both = [client.try_clone().unwrap(), server.try_clone().unwrap()];
                            let (stalled, stop) = (stalled.clone(), stop2.clone());
                            thread::spawn(move || {
                                let flags = [&*stalled, &*stop];
                                pump(from.unwrap(), to.unwrap(), way, fault, flags, &both);
                            });
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => return,
                }
            }
        });
        Proxy { port, stop, open }
    }

    /// `url` (a test database's) through this proxy.
    pub fn url(&self, url: &str, server_port: u16) -> String {
        url.replace(&format!(":{server_port}/"), &format!(":{}/", self.port))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Forward `from` to `to`, as `fault` says for this `way`.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    way: Way,
    fault: Fault,
    [stalled, stop]: [&AtomicBool; 2],
    both: &[TcpStream; 2],
) {
    let mut buf = [0u8; 16 * 1024];
    let mut sent = 0usize;
    loop {
        if stalled.load(Ordering::Relaxed) {
            // Neither reads nor forwards: the connection stays, silent.
            thread::sleep(Duration::from_millis(50));
            if stop.load(Ordering::Relaxed) {
                return;
            }
            continue;
        }
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        let mut n = n;
        match fault {
            Fault::Delay(d) => thread::sleep(d),
            Fault::Stall(w, limit) | Fault::Cut(w, limit) if w == way && sent + n > limit => {
                n = limit.saturating_sub(sent);
                let _ = to.write_all(&buf[..n]);
                if let Fault::Cut(..) = fault {
                    for s in both {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                    return;
                }
                stalled.store(true, Ordering::Relaxed);
                continue;
            }
            _ => {}
        }
        if to.write_all(&buf[..n]).is_err() {
            return;
        }
        sent += n;
    }
}
