//! Byte-level helpers: a cursor over a slice, and a reader that keeps what it read.

use crate::{Error, Result};
use std::io::Read;

/// A bounds-checked cursor over a byte slice.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(Error::Malformed("field runs past its enclosing structure"));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn take_u16_prefixed(&mut self) -> Result<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Reads exact-size fields from a stream and appends every byte read to `record`, so the
/// header can be authenticated and signed as it was received.
pub(crate) struct Recorder<'r, R: Read> {
    pub src: &'r mut R,
    pub record: Vec<u8>,
}

impl<R: Read> Recorder<'_, R> {
    pub fn bytes(&mut self, n: usize) -> Result<&[u8]> {
        let start = self.record.len();
        // Grows with what actually arrives: a forged length cannot force a large allocation.
        let got = self
            .src
            .by_ref()
            .take(n as u64)
            .read_to_end(&mut self.record)?;
        if got != n {
            return Err(Error::Truncated);
        }
        Ok(&self.record[start..])
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u16_prefixed(&mut self) -> Result<Vec<u8>> {
        let n = self.u16()?;
        Ok(self.bytes(usize::from(n))?.to_vec())
    }
}

/// Reads exactly `buf.len()` bytes; a short stream is a truncated message.
pub(crate) fn read_exact<R: Read>(src: &mut R, buf: &mut [u8]) -> Result<()> {
    src.read_exact(buf).map_err(Error::from)
}

/// Reads exactly `n` bytes into `buf[at..at + n]`. Until `buf` is that long it grows only
/// as bytes arrive (a forged length cannot force a large allocation); it keeps its length,
/// so later calls read straight into place. Callers fill `buf` from the start.
pub(crate) fn read_at<R: Read>(src: &mut R, buf: &mut Vec<u8>, at: usize, n: usize) -> Result<()> {
    let end = at.checked_add(n).ok_or(Error::Truncated)?;
    if buf.len() >= end {
        return read_exact(src, &mut buf[at..end]);
    }
    buf.resize(at, 0);
    let got = src.by_ref().take(n as u64).read_to_end(buf)?;
    if got != n {
        return Err(Error::Truncated);
    }
    Ok(())
}

/// Replaces `buf`'s contents with exactly `n` bytes from `src`, growing only as bytes
/// arrive (the capacity is kept across calls, so frame buffers are allocated once).
pub(crate) fn read_into<R: Read>(src: &mut R, buf: &mut Vec<u8>, n: usize) -> Result<()> {
    buf.clear();
    let got = src.by_ref().take(n as u64).read_to_end(buf)?;
    if got != n {
        return Err(Error::Truncated);
    }
    Ok(())
}
