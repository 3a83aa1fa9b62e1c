//! Choices made by timing, remembered in the cache folder next to the compiled programs: which
//! of several equivalent programs ran fastest, on how many threads, with how many steps per
//! call. A later process that would time the same candidates on the same plugin, devices and
//! host reads the choice instead of timing again.
//!
//! A choice file, `<folder>/choices/<key as 64 hex digits>.choice`:
//!
//! ```text
//! magic     8 bytes  "PJRTCCH\0"
//! key       32 bytes the choice key (also the file's name)
//! value     u32 LE length (at most 64 KiB) + bytes
//! checksum  32 bytes SHA-256 of everything above
//! ```
//!
//! A file that is short, long, corrupt or filed under another key is ignored (the caller
//! times again and writes it anew); a choice only steers which of the caller's own candidates
//! runs, so a stale one costs speed, never correctness.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::compile_options::CompileOptions;
use crate::discovery::to_hex;
use crate::error::{Error, Result};
use crate::executable::cache::hook::{client_fields, field};
use crate::executable::cache::store::{write_atomically, CompileCache};

const MAGIC: &[u8; 8] = b"PJRTCCH\0";
const EXT: &str = "choice";
/// The largest value a choice holds.
pub const CHOICE_MAX_BYTES: usize = 64 << 10;

/// The key of a choice ([`CompileCache::choice_key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChoiceKey([u8; 32]);

impl ChoiceKey {
    /// The key's bytes (SHA-256).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl CompileCache {
    /// The key of a choice about `topic` among candidates described by `parts` (for example
    /// each candidate program's text and the settings tried), for programs compiled on
    /// `client` with `options`: SHA-256 of those and of everything the compile cache's keys
    /// hold about the plugin, the client's devices, the host CPU and the compiler's
    /// environment, plus the CPUs this process may use and `client`'s thread budget (timings
    /// depend on both).
    pub fn choice_key(
        client: &Client,
        options: &CompileOptions,
        topic: &str,
        parts: &[&[u8]],
    ) -> Result<ChoiceKey> {
        let mut h = Sha256::new();
        field(&mut h, b"pjrt-runtime choice key 1");
        client_fields(&mut h, client)?;
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get() as u64);
        field(&mut h, &cpus.to_le_bytes());
        let budget = client.cpu_threads().map_or(0, |n| n as u64);
        field(&mut h, &budget.to_le_bytes());
        field(&mut h, &options.encode()?);
        field(&mut h, topic.as_bytes());
        field(&mut h, &(parts.len() as u64).to_le_bytes());
        for p in parts {
            field(&mut h, p);
        }
        Ok(ChoiceKey(h.finalize().into()))
    }

    fn choice_path(&self, key: &ChoiceKey) -> PathBuf {
        self.dir()
            .join("choices")
            .join(format!("{}.{EXT}", to_hex(&key.0)))
    }

    /// The value remembered under `key`, if a whole, unaltered one is there.
    pub fn recall_choice(&self, key: &ChoiceKey) -> Option<Vec<u8>> {
        let path = self.choice_path(key);
        let bytes = std::fs::read(&path).ok()?;
        match decode(&bytes, key) {
            Ok(v) => Some(v),
            Err(why) => {
                tracing::warn!(target: "pjrt::compile_cache", path = %path.display(), reason = why, "choice refused; timing again");
                None
            }
        }
    }

    /// Remembers `value` (at most [`CHOICE_MAX_BYTES`]) under `key`, written atomically as
    /// entries are.
    pub fn remember_choice(&self, key: &ChoiceKey, value: &[u8]) -> Result<()> {
        if value.len() > CHOICE_MAX_BYTES {
            return Err(Error::InvalidArgument(format!(
                "CompileCache::remember_choice: a choice holds at most {CHOICE_MAX_BYTES} bytes, got {}",
                value.len()
            )));
        }
        let path = self.choice_path(key);
        let dir = path.parent().unwrap_or(self.dir());
        write_atomically(dir, &path, &encode(key, value))
    }

    /// Removes every remembered choice; returns how many there were.
    pub(crate) fn clear_choices(&self) -> usize {
        let dir = self.dir().join("choices");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }
}

fn encode(key: &ChoiceKey, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 32 + 4 + value.len() + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&key.0);
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value);
    let sum: [u8; 32] = Sha256::digest(&out).into();
    out.extend_from_slice(&sum);
    out
}

fn decode(bytes: &[u8], key: &ChoiceKey) -> std::result::Result<Vec<u8>, &'static str> {
    let head = 8 + 32 + 4;
    if bytes.len() < head + 32 || bytes.len() > head + CHOICE_MAX_BYTES + 32 {
        return Err("wrong size");
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(body).as_slice() != sum {
        return Err("checksum mismatch");
    }
    if &body[..8] != MAGIC {
        return Err("not a choice file");
    }
    if body[8..40] != key.0 {
        return Err("filed under another key");
    }
    let mut n = [0u8; 4];
    n.copy_from_slice(&body[40..44]);
    if u32::from_le_bytes(n) as usize != body.len() - head {
        return Err("length mismatch");
    }
    Ok(body[head..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_choices_are_refused() {
        let k = ChoiceKey([7; 32]);
        let good = encode(&k, b"variant=1");
        assert_eq!(decode(&good, &k).as_deref(), Ok(&b"variant=1"[..]));
        assert_eq!(
            decode(&good, &ChoiceKey([8; 32])),
            Err("filed under another key")
        );
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            assert!(decode(&bad, &k).is_err(), "flip at {i} accepted");
        }
        for n in 0..good.len() {
            assert!(decode(&good[..n], &k).is_err(), "truncated to {n} accepted");
        }
    }
}
