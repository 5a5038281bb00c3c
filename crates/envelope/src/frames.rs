//! Batches of regular frames, sealed or opened across threads.
//!
//! A batch holds whole regular frames laid out exactly as on the wire,
//! `seq(4) iv(12) content(F) tag(16)` each, so a sealed batch is hashed and written with one
//! call and a received batch is read into place without copying. Frames are independent
//! AES-GCM operations (the IV is the sequence number, the AAD names the frame), so a batch
//! is split into contiguous runs of frames, one per thread, on scoped threads; the calling
//! thread takes the first run itself. Everything order-dependent (reading, hashing for the
//! signature, writing, releasing plaintext) stays on the calling thread, in frame order, so
//! the output is byte-identical whatever the thread count.
//!
//! Memory: a batch is at most [`BATCH_BYTES`] of frames (or one frame when a frame is
//! larger), whatever the message length.

use crate::body::{FRAME, body_aad, frame_iv};
use crate::{Error, Result};
use coffer_crypto::{GCM_IV_LEN, GCM_TAG_LEN, GcmKey};
use std::sync::OnceLock;

/// Where a regular frame's content starts: after seq(4) and IV(12).
pub(crate) const CONTENT_AT: usize = 4 + GCM_IV_LEN;
/// Bytes a regular frame adds to its content.
pub(crate) const OVERHEAD: usize = CONTENT_AT + GCM_TAG_LEN;
/// Frame bytes per batch. Large enough that starting threads (tens of microseconds) is a
/// few percent of the AES work, small enough that a batch stays in the last-level cache
/// between being filled, sealed, hashed and written.
pub(crate) const BATCH_BYTES: usize = 4 << 20;
/// Below this many frame bytes per thread a thread costs more than it saves.
const MIN_BYTES_PER_THREAD: usize = 256 << 10;

/// The threads a client uses by default: the cores this process may run on, read once
/// (the lookup reads cgroup files, too slow to repeat per message).
pub(crate) fn default_threads() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// What every frame of one message shares.
pub(crate) struct Frames<'a> {
    pub key: &'a GcmKey,
    pub message_id: &'a [u8],
    /// Content bytes of a regular frame.
    pub frame_len: usize,
    /// Most threads to use.
    pub threads: usize,
}

impl Frames<'_> {
    /// Bytes of one regular frame on the wire.
    pub fn stride(&self) -> usize {
        self.frame_len + OVERHEAD
    }

    /// Regular frames per batch: as many as fit in [`BATCH_BYTES`], at least one.
    pub fn batch_frames(&self) -> usize {
        (BATCH_BYTES / self.stride()).max(1)
    }

    /// Encrypts the frames in `buf` (whole frames, content in place, numbered from
    /// `first_seq`) and fills in their sequence numbers, IVs and tags.
    pub fn seal(&self, buf: &mut [u8], first_seq: u32) -> Result<()> {
        self.seal_while(buf, first_seq, None)
    }

    /// `seal`, running `meanwhile` on the calling thread while other threads seal (so the
    /// caller can hash and write the previous batch in the meantime).
    pub fn seal_while(
        &self,
        buf: &mut [u8],
        first_seq: u32,
        meanwhile: Option<&mut dyn FnMut() -> Result<()>>,
    ) -> Result<()> {
        let work = |index, run: &mut [u8]| self.seal_run(first_seq, index, run);
        match self.run(buf, work, meanwhile)? {
            None => Ok(()),
            Some(_) => Err(Error::Config("frame encryption failed".into())),
        }
    }

    /// Authenticates and decrypts the frames in `buf` (whole frames as received, numbered
    /// from `first_seq`) in place. Returns how many leading frames verified; the content of
    /// every frame from the first that failed on is zeroed, so none of it can be released.
    pub fn open(&self, buf: &mut [u8], first_seq: u32) -> Result<usize> {
        let stride = self.stride();
        let count = buf.len() / stride;
        let failed = self.run(buf, |index, run| self.open_run(first_seq, index, run), None)?;
        let Some(first_bad) = failed else {
            return Ok(count);
        };
        // Frames after the bad one may have verified on other threads: the sequential
        // path would never have decrypted them, so they are withheld and wiped.
        buf[first_bad * stride..].fill(0);
        Ok(first_bad)
    }

    /// Runs `work(first frame index, frames)` over contiguous runs of `buf`'s frames on up
    /// to `self.threads` threads. Returns the lowest frame index any run reported as failed.
    /// The calling thread takes the first run, or runs `meanwhile` instead when given (its
    /// error is returned once every run has finished).
    fn run<F>(
        &self,
        buf: &mut [u8],
        work: F,
        meanwhile: Option<&mut dyn FnMut() -> Result<()>>,
    ) -> Result<Option<usize>>
    where
        F: Fn(usize, &mut [u8]) -> Option<usize> + Sync,
    {
        let stride = self.stride();
        let count = buf.len() / stride;
        let threads = self
            .threads
            .min(buf.len() / MIN_BYTES_PER_THREAD)
            .clamp(1, count.max(1));
        if threads == 1 {
            // Too little work to share: no thread is started, `meanwhile` runs here too.
            let side = meanwhile.map_or(Ok(()), |f| f());
            let failed = work(0, buf);
            return side.map(|()| failed);
        }
        let per = count.div_ceil(threads).max(1);
        let mut runs = buf.chunks_mut(per * stride).enumerate();
        let work = &work;
        std::thread::scope(|s| {
            let mine = if meanwhile.is_none() {
                runs.next()
            } else {
                None
            };
            let handles: Vec<_> = runs
                .map(|(i, run)| s.spawn(move || work(i * per, run)))
                .collect();
            let mut failed = mine.and_then(|(_, run)| work(0, run));
            let side = meanwhile.map_or(Ok(()), |f| f());
            for h in handles {
                let theirs = h.join().map_err(|_| Error::Worker)?;
                failed = match (failed, theirs) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            side.map(|()| failed)
        })
    }

    /// Seals the frames of one run; `index` is the batch index of its first frame.
    fn seal_run(&self, first_seq: u32, index: usize, run: &mut [u8]) -> Option<usize> {
        let mut aad = Vec::with_capacity(self.message_id.len() + FRAME.len() + 12);
        for (i, frame) in run.chunks_exact_mut(self.stride()).enumerate() {
            let seq = seq_of(first_seq, index + i)?;
            let iv = frame_iv(seq);
            frame[..4].copy_from_slice(&seq.to_be_bytes());
            frame[4..CONTENT_AT].copy_from_slice(&iv);
            body_aad(&mut aad, self.message_id, FRAME, seq, self.frame_len as u64);
            let (content, tag) = frame[CONTENT_AT..].split_at_mut(self.frame_len);
            match self.key.seal_in_place(&iv, &aad, content) {
                Ok(t) => tag.copy_from_slice(&t),
                Err(_) => return Some(index + i),
            }
        }
        None
    }

    /// Opens the frames of one run, stopping at the first that fails.
    fn open_run(&self, first_seq: u32, index: usize, run: &mut [u8]) -> Option<usize> {
        let mut aad = Vec::with_capacity(self.message_id.len() + FRAME.len() + 12);
        for (i, frame) in run.chunks_exact_mut(self.stride()).enumerate() {
            let seq = seq_of(first_seq, index + i)?;
            let mut iv = [0u8; GCM_IV_LEN];
            iv.copy_from_slice(&frame[4..CONTENT_AT]);
            body_aad(&mut aad, self.message_id, FRAME, seq, self.frame_len as u64);
            let (content, tag) = frame[CONTENT_AT..].split_at_mut(self.frame_len);
            if self.key.open_in_place(&iv, &aad, content, tag).is_err() {
                return Some(index + i);
            }
        }
        None
    }
}

/// The sequence number of the frame `index` places after `first`; callers check the range
/// before a batch is formed, so `None` here only guards the arithmetic.
fn seq_of(first: u32, index: usize) -> Option<u32> {
    u32::try_from(index).ok().and_then(|i| first.checked_add(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(key: &GcmKey, frame_len: usize, threads: usize) -> Frames<'_> {
        Frames {
            key,
            message_id: &[5u8; 32],
            frame_len,
            threads,
        }
    }

    fn batch(frame_len: usize, count: usize) -> Vec<u8> {
        let stride = frame_len + OVERHEAD;
        let mut buf = vec![0u8; stride * count];
        for (i, f) in buf.chunks_exact_mut(stride).enumerate() {
            for (j, b) in f[CONTENT_AT..CONTENT_AT + frame_len].iter_mut().enumerate() {
                *b = (i * 7 + j) as u8;
            }
        }
        buf
    }

    #[test]
    fn threads_change_nothing_in_the_bytes() {
        let key = GcmKey::new(&[9u8; 32]).unwrap();
        // 4096-byte frames: 1 MiB+ of frames gives several threads work; odd counts leave
        // a short last run.
        for count in [1, 2, 63, 64, 65, 257, 300] {
            let plain = batch(4096, count);
            let mut one = plain.clone();
            frames(&key, 4096, 1).seal(&mut one, 7).unwrap();
            for threads in [2, 3, 8] {
                let mut many = plain.clone();
                frames(&key, 4096, threads).seal(&mut many, 7).unwrap();
                assert_eq!(one, many, "{count} frames, {threads} threads");
                let opened = frames(&key, 4096, threads).open(&mut many, 7).unwrap();
                assert_eq!(opened, count);
                for (m, p) in many
                    .chunks_exact(4096 + OVERHEAD)
                    .zip(plain.chunks_exact(4096 + OVERHEAD))
                {
                    assert_eq!(
                        m[CONTENT_AT..CONTENT_AT + 4096],
                        p[CONTENT_AT..CONTENT_AT + 4096]
                    );
                }
            }
        }
    }

    #[test]
    fn a_small_batch_starts_no_thread_even_with_work_meanwhile() {
        let key = GcmKey::new(&[9u8; 32]).unwrap();
        let mut buf = batch(4096, 3);
        let caller = std::thread::current().id();
        let worked_on = std::sync::Mutex::new(Vec::new());
        let mut ran_meanwhile = false;
        let mut meanwhile = || {
            ran_meanwhile = true;
            Ok(())
        };
        let work = |_: usize, _: &mut [u8]| {
            worked_on.lock().unwrap().push(std::thread::current().id());
            None
        };
        let failed = frames(&key, 4096, 8)
            .run(&mut buf, work, Some(&mut meanwhile))
            .unwrap();
        assert_eq!(failed, None);
        assert!(ran_meanwhile);
        assert_eq!(*worked_on.lock().unwrap(), vec![caller]);
    }

    #[test]
    fn a_bad_frame_withholds_itself_and_everything_after_it() {
        let key = GcmKey::new(&[9u8; 32]).unwrap();
        let stride = 4096 + OVERHEAD;
        let plain = batch(4096, 300);
        let mut sealed = plain.clone();
        frames(&key, 4096, 1).seal(&mut sealed, 1).unwrap();
        for bad in [0, 1, 149, 150, 299] {
            for threads in [1, 2, 4] {
                let mut b = sealed.clone();
                b[bad * stride + CONTENT_AT + 100] ^= 1;
                let opened = frames(&key, 4096, threads).open(&mut b, 1).unwrap();
                assert_eq!(opened, bad, "threads {threads}");
                for f in 0..bad {
                    let at = f * stride + CONTENT_AT;
                    assert_eq!(b[at..at + 4096], plain[at..at + 4096]);
                }
                assert!(b[bad * stride..].iter().all(|x| *x == 0));
            }
        }
        // The wrong first sequence number fails the first frame.
        let mut b = sealed.clone();
        assert_eq!(frames(&key, 4096, 2).open(&mut b, 2).unwrap(), 0);
    }
}
