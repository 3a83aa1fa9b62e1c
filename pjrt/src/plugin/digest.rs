//! The plugin file's SHA-256, remembered across processes.
//!
//! The identity of a plugin (in serialized executables and in compile cache keys) includes
//! the SHA-256 of its file: 200-280 MB for the CPU plugins, 0.17-0.32 s to hash, in every
//! process that saves, loads or compiles through the cache. So the digest is remembered in
//! the compile cache folder (`<folder>/plugin-digests/`, one small file per plugin path),
//! keyed by the file's path, size, modification time and, on Unix, its device, inode and
//! change time. Any change to the file changes one of those (rewriting it in place changes
//! the change time, which no user call can set back), and the file is hashed again.
//!
//! With the compile cache switched off (`PJRT_COMPILE_CACHE=off`) nothing is remembered and
//! nothing is written.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::discovery::{sha256_file, to_hex};
use crate::executable::default_compile_cache_dir;

const MEMO_VERSION: &str = "pjrt-runtime plugin digest v1";

/// The SHA-256 of the file at `path`, from the memo when the file is unchanged, else hashed
/// (and remembered).
pub(crate) fn sha256_remembered(path: &Path) -> std::io::Result<[u8; 32]> {
    match default_compile_cache_dir() {
        Some(dir) => sha256_with_memo(path, &dir.join("plugin-digests")),
        None => sha256_file(path),
    }
}

/// [`sha256_remembered`] with the memo in `memo_dir`.
pub(crate) fn sha256_with_memo(path: &Path, memo_dir: &Path) -> std::io::Result<[u8; 32]> {
    let stamp = stamp(path)?;
    let memo = memo_path(memo_dir, path);
    if let Some(d) = read_memo(&memo, &stamp) {
        tracing::trace!(path = %path.display(), "plugin digest remembered");
        return Ok(d);
    }
    let digest = sha256_file(path)?;
    // Only remember it if the file did not change while it was read.
    if self::stamp(path).ok().as_ref() == Some(&stamp) {
        if let Err(e) = write_memo(memo_dir, &memo, &stamp, &digest) {
            tracing::debug!(path = %memo.display(), error = %e, "cannot remember the plugin digest");
        }
    }
    Ok(digest)
}

/// What identifies one version of a file: its path and metadata, as text lines.
fn stamp(path: &Path) -> std::io::Result<String> {
    let m = std::fs::metadata(path)?;
    let mtime = m
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut s = format!(
        "{MEMO_VERSION}\npath {}\nsize {}\nmtime {mtime}\n",
        path.display(),
        m.len()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        s.push_str(&format!(
            "dev {}\ninode {}\nctime {}.{:09}\n",
            m.dev(),
            m.ino(),
            m.ctime(),
            m.ctime_nsec()
        ));
    }
    Ok(s)
}

fn memo_path(memo_dir: &Path, path: &Path) -> PathBuf {
    let h = Sha256::digest(path.as_os_str().as_encoded_bytes());
    memo_dir.join(format!("{}.txt", to_hex(&h[..16])))
}

/// The digest in `memo` if its stamp is `stamp`.
fn read_memo(memo: &Path, stamp: &str) -> Option<[u8; 32]> {
    let text = std::fs::read_to_string(memo).ok()?;
    let hexd = text
        .strip_prefix(stamp)?
        .strip_prefix("sha256 ")?
        .trim_end();
    if hexd.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hexd.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn write_memo(memo_dir: &Path, memo: &Path, stamp: &str, digest: &[u8; 32]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(memo_dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(memo_dir)?;
    writeln!(tmp, "{stamp}sha256 {}", to_hex(digest))?;
    tmp.as_file().sync_all()?;
    tmp.persist(memo).map_err(|e| e.error)?;
    Ok(())
}

// Test code: `unwrap` and `panic!` here are the assertions.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plugin.so");
        let memo_dir = dir.path().join("memo");
        std::fs::write(&file, b"first version").unwrap();
        let d1 = sha256_with_memo(&file, &memo_dir).unwrap();
        assert_eq!(d1, sha256_file(&file).unwrap());
        let memo = memo_path(&memo_dir, &file);
        assert!(memo.is_file());

        // The memo is what answers while the file is unchanged: forge a different digest in
        // it and it comes back.
        let text = std::fs::read_to_string(&memo).unwrap();
        let forged = text.replace(&to_hex(&d1), &"ab".repeat(32));
        std::fs::write(&memo, forged).unwrap();
        assert_eq!(sha256_with_memo(&file, &memo_dir).unwrap(), [0xab; 32]);

        // Any change to the file (here its size and times) makes it hash again.
        std::fs::write(&file, b"second version, longer").unwrap();
        let d2 = sha256_with_memo(&file, &memo_dir).unwrap();
        assert_eq!(d2, sha256_file(&file).unwrap());
        assert_ne!(d2, d1);

        // A damaged memo is ignored and rewritten.
        std::fs::write(&memo, "garbage").unwrap();
        assert_eq!(sha256_with_memo(&file, &memo_dir).unwrap(), d2);
        assert!(std::fs::read_to_string(&memo).unwrap().contains("sha256 "));
    }
}
