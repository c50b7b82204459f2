//! `--encoding`: CSV written in another encoding than UTF-8 (spreadsheets save latin1,
//! windows-1252 or UTF-16), converted to UTF-8 as it is read, so that every tool after
//! it sees UTF-8. A UTF-16 byte-order mark is recognised without the flag. The default
//! stays UTF-8, bytes as they are.

use std::io::{self, Read};

/// The encoding of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Encoding {
    /// UTF-8, or any bytes: read as they are (the default)
    #[default]
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// ISO-8859-1: each byte is the character of the same number
    #[value(alias = "iso-8859-1")]
    Latin1,
    /// windows-1252 (what spreadsheets often call "ANSI" or latin1)
    #[value(alias = "windows-1252")]
    Cp1252,
    /// UTF-16, little-endian unless a byte-order mark says otherwise
    #[value(name = "utf-16", alias = "utf16")]
    Utf16,
    /// Bytes read as they are, with no byte-order mark looked for: what qimport reads
    /// headerless CSV as under `--binary raw`, whose first value may start with any bytes
    /// (not a flag's value).
    #[value(skip)]
    Bytes,
}

/// A reader that converts `src` from `encoding` to UTF-8. A sequence the encoding cannot
/// hold (an unpaired UTF-16 surrogate) is an error naming its line.
pub struct Decoded<R> {
    src: R,
    encoding: Encoding,
    utf16: Option<encoding_rs::Decoder>,
    raw: Vec<u8>,
    raw_len: usize,
    out: Vec<u8>,
    at: usize,
    eof: bool,
    /// Line feeds handed out so far: the line of an error.
    lines: u64,
}

impl<R: Read> Decoded<R> {
    pub fn new(src: R, encoding: Encoding) -> Self {
        Decoded {
            src,
            encoding,
            // BOM sniffing: FF FE little-endian, FE FF big-endian, and none little-endian.
            utf16: (encoding == Encoding::Utf16).then(|| encoding_rs::UTF_16LE.new_decoder()),
            raw: vec![0; 64 * 1024],
            raw_len: 0,
            out: Vec::with_capacity(192 * 1024),
            at: 0,
            eof: false,
            lines: 1,
        }
    }

    /// Convert the next raw bytes into `out`.
    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.at = 0;
        while self.out.is_empty() && !(self.eof && self.raw_len == 0) {
            if !self.eof && self.raw_len < self.raw.len() {
                let n = self.src.read(&mut self.raw[self.raw_len..])?;
                self.eof = n == 0;
                self.raw_len += n;
            }
            let raw = &self.raw[..self.raw_len];
            let used = match self.encoding {
                Encoding::Utf8 | Encoding::Bytes => {
                    self.out.extend_from_slice(raw);
                    raw.len()
                }
                Encoding::Latin1 => {
                    for &b in raw {
                        push_char(&mut self.out, char::from(b));
                    }
                    raw.len()
                }
                Encoding::Cp1252 => {
                    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(raw);
                    self.out.extend_from_slice(text.as_bytes());
                    raw.len()
                }
                Encoding::Utf16 => {
                    let dec = self.utf16.as_mut().expect("a UTF-16 decoder");
                    let room = dec
                        .max_utf8_buffer_length_without_replacement(raw.len())
                        .unwrap_or(raw.len() * 3 + 8);
                    let start = self.out.len();
                    self.out.resize(start + room, 0);
                    let (result, read, written) = dec.decode_to_utf8_without_replacement(
                        raw,
                        &mut self.out[start..],
                        self.eof,
                    );
                    self.out.truncate(start + written);
                    if let encoding_rs::DecoderResult::Malformed(bad, _) = result {
                        let line =
                            self.lines + memchr::memchr_iter(b'\n', &self.out).count() as u64;
                        // One byte left over at the end: an odd number of bytes.
                        let why = if self.eof && bad == 1 {
                            "the input ends in the middle of a UTF-16 character (an odd number of bytes: cut short?)"
                        } else {
                            "bytes that are not UTF-16 (an unpaired surrogate)"
                        };
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("line {line}: {why}"),
                        ));
                    }
                    read
                }
            };
            self.raw.copy_within(used..self.raw_len, 0);
            self.raw_len -= used;
            if self.eof && used == 0 {
                break;
            }
        }
        Ok(())
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut b = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.out.len() {
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], e: Encoding) -> io::Result<String> {
        let mut s = String::new();
        Decoded::new(bytes, e).read_to_string(&mut s)?;
        Ok(s)
    }

    // See: #16: each encoding to UTF-8; UTF-16 by its BOM either way; a bad one names its line.
    #[test]
    fn encodings_become_utf8() {
        assert_eq!(
            decode(b"caf\xe9,\x80\n", Encoding::Latin1).unwrap(),
            "café,\u{80}\n"
        );
        assert_eq!(
            decode(b"caf\xe9,\x80\n", Encoding::Cp1252).unwrap(),
            "café,€\n"
        );
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a,é\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("a,é\n".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&le, Encoding::Utf16).unwrap(), "a,é\n");
        assert_eq!(decode(&be, Encoding::Utf16).unwrap(), "a,é\n");
        let mut bad: Vec<u8> = "x\ny\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        bad.extend_from_slice(&[0x00, 0xD8, b'z', 0]);
        let e = decode(&bad, Encoding::Utf16).unwrap_err().to_string();
        assert!(
            e.starts_with("line 3: ") && e.contains("unpaired surrogate"),
            "{e}"
        );
        // See: #23 (5): an odd number of bytes is said as such.
        let mut odd: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        odd.push(b'b');
        let e = decode(&odd, Encoding::Utf16).unwrap_err().to_string();
        assert!(e.contains("an odd number of bytes"), "{e}");
        assert_eq!(
            decode(b"\xff\x00", Encoding::Utf8).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
