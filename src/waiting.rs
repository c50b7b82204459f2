//! Waits that a failure elsewhere must be able to end: a load whose input is a pipe waits
//! on that pipe for as long as its producer pauses (hours, for some), and meanwhile the
//! server may die. The connection's side learns of it ([`peer_gone`]); the pipe's reader
//! ([`Stoppable`]) then stops waiting ([`stop`]), so that the run ends with its one line
//! now rather than when the producer next writes.

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::poll::{poll, PollFd, PollFlags};

/// Set when the run has failed and no input it waits for is wanted any more.
static STOPPED: AtomicBool = AtomicBool::new(false);

/// How long one wait lasts before [`STOPPED`] is looked at again, in milliseconds.
const TICK_MS: u16 = 250;

/// No input is wanted any more: readers waiting on a pipe stop, with an error.
pub fn stop() {
    STOPPED.store(true, Ordering::SeqCst);
}

/// A new run in this process (a ledger loads several files): input is wanted again.
pub fn resume() {
    STOPPED.store(false, Ordering::SeqCst);
}

/// Whether `fd` becomes readable (or hung up) within `ms` milliseconds.
fn ready(fd: BorrowedFd<'_>, flags: PollFlags, ms: u16) -> bool {
    let mut fds = [PollFd::new(fd, flags)];
    match poll(&mut fds, ms) {
        Ok(n) => n > 0,
        // Interrupted (a signal): not ready yet; any other error: let the read say it.
        Err(nix::errno::Errno::EINTR) => false,
        Err(_) => true,
    }
}

/// Whether the server at the other end of `sock`, in the middle of a LOAD DATA stream (to
/// which it answers only at the end), has closed the connection or said something: either
/// way the stream is over.
pub fn peer_gone(sock: BorrowedFd<'_>) -> bool {
    ready(sock, PollFlags::POLLIN, 0)
}

/// A pipe (or terminal) whose reads end with an error once [`stop`] is called, instead of
/// waiting on for a writer that may pause for hours.
pub struct Stoppable<R>(pub R);

impl<R: Read + AsFd> Read for Stoppable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if STOPPED.load(Ordering::SeqCst) {
                return Err(std::io::Error::other(
                    "the run failed: its input is not read any more",
                ));
            }
            if ready(self.0.as_fd(), PollFlags::POLLIN, TICK_MS) {
                return self.0.read(buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_wait_ends_and_a_ready_pipe_reads() {
        let (r, mut w) = std::io::pipe().unwrap();
        std::io::Write::write_all(&mut w, b"abc").unwrap();
        let mut s = Stoppable(r);
        let mut buf = [0u8; 8];
        assert_eq!(s.read(&mut buf).unwrap(), 3);
        let waiting = std::thread::spawn(move || s.read(&mut buf).map_err(|e| e.to_string()));
        std::thread::sleep(std::time::Duration::from_millis(50));
        stop();
        assert!(waiting
            .join()
            .unwrap()
            .unwrap_err()
            .contains("not read any more"));
        resume();
        drop(w);
    }
}
