//! Serialized executables: the plugin's bytes in an envelope that names the plugin that made
//! them, checks their integrity, and may carry a signature.
//!
//! **A serialized executable is native code.** The CPU plugins' bytes are compiled machine
//! code plus constants, loaded into the process and run as they are: the plugins check
//! nothing, so flipped bytes load and compute wrong numbers or crash (SIGILL, SIGSEGV), and a
//! file from an untrusted source can do anything the process can. Treat a `.pjrt` file like a
//! shared library.
//!
//! A plugin's bytes are not portable either: other plugin builds reject them, or (the 0.81 CPU
//! plugin) load them and compute wrong numbers. So they travel in an envelope:
//!
//! ```text
//! magic        8 bytes  "PJRTRSX\0"
//! version      u32 LE   2
//! sha256       32 bytes SHA-256 of the plugin file that made it
//! api major    i32 LE
//! api minor    i32 LE
//! platform     u32 LE length + UTF-8 name
//! version      u32 LE length + UTF-8 platform version
//! blob         u64 LE length + the plugin's serialized executable
//! digest       32 bytes SHA-256 of every byte above
//! signature    u8 kind: 0 none, 1 Ed25519 followed by the 32-byte public key and the
//!              64-byte signature of "pjrt-rs signed executable v2\0" + digest
//! ```
//!
//! What each part gives:
//! - The **digest** is checked before anything reaches the plugin: a damaged or truncated
//!   file is refused ([`Error::InvalidSerializedExecutable`]), whichever byte changed. It
//!   protects against accidents, not against an adversary, who can recompute it.
//! - The **identity** refuses an executable made by another plugin
//!   ([`Error::ForeignExecutable`]). It is a claim written by whoever wrote the file: anyone
//!   can label a 0.115 blob as 0.81.
//! - The **signature** is what makes a file trustworthy: a deployment that loads with
//!   [`Client::load_executable_verified`] and its [`VerifyingKey`] refuses files that are
//!   unsigned, signed with another key, or changed after signing ([`Error::UntrustedExecutable`]).
//!   The signature covers the digest, so it covers the identity and the blob.
//!
//! Version 1 files (no digest) are refused with a message saying to save them again: reading
//! them would hand unchecked bytes to the plugin.

use std::fmt;
use std::path::Path;

use ed25519_dalek::{Signer, Verifier};
use sha2::{Digest, Sha256};

use pjrt_sys as sys;

use crate::client::Client;
use crate::error::{ApiVersion, Error, Result};
use crate::executable::loaded::LoadedExecutable;
use crate::plugin::call;

const MAGIC: &[u8; 8] = b"PJRTRSX\0";
const FORMAT_VERSION: u32 = 2;
/// What an Ed25519 signature signs: this prefix, then the envelope's digest.
const SIGNING_CONTEXT: &[u8] = b"pjrt-rs signed executable v2\0";
const SIGNATURE_NONE: u8 = 0;
const SIGNATURE_ED25519: u8 = 1;

/// What identifies the plugin (and platform) that made a serialized executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginIdentity {
    /// SHA-256 of the plugin file.
    pub sha256: [u8; 32],
    /// The plugin's PJRT API version.
    pub api_version: ApiVersion,
    /// The platform name.
    pub platform_name: String,
    /// The platform version.
    pub platform_version: String,
}

impl fmt::Display for PluginIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "plugin sha256 {} (PJRT API {}, platform {} {})",
            &hex(&self.sha256)[..16],
            self.api_version,
            self.platform_name,
            self.platform_version
        )
    }
}

/// A key that signs executables ([`LoadedExecutable::save_signed`]): an Ed25519 secret key.
/// Keep it where only the build that produces executables can read it.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(public {})", self.verifying_key())
    }
}

impl SigningKey {
    /// A new random key (from the operating system's random source).
    pub fn generate() -> Result<SigningKey> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| {
            Error::InvalidArgument(format!("SigningKey::generate: no randomness: {e}"))
        })?;
        Ok(SigningKey::from_bytes(&secret))
    }

    /// The key with these 32 secret bytes (as written by [`to_bytes`](Self::to_bytes)).
    pub fn from_bytes(secret: &[u8; 32]) -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(secret))
    }

    /// The 32 secret bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key that verifies this key's signatures: what a deployment holds.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }
}

/// The public half of a [`SigningKey`]: verifies signed executables
/// ([`Client::load_executable_verified`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({self})")
    }
}

impl fmt::Display for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(self.0.as_bytes()))
    }
}

impl VerifyingKey {
    /// The key with these 32 public bytes; refuses bytes that are not a valid Ed25519 key.
    pub fn from_bytes(public: &[u8; 32]) -> Result<VerifyingKey> {
        ed25519_dalek::VerifyingKey::from_bytes(public)
            .map(VerifyingKey)
            .map_err(|e| Error::InvalidArgument(format!("VerifyingKey::from_bytes: {e}")))
    }

    /// The 32 public bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

/// A signature carried by an envelope: who signed (the public key) and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutableSignature {
    /// The signer's public key, as written in the file (not yet trusted).
    pub public_key: [u8; 32],
    /// The Ed25519 signature of the envelope's digest.
    pub signature: [u8; 64],
}

/// A parsed envelope: who made it, the plugin's bytes, and an optional signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializedExecutable {
    /// The maker's identity.
    pub identity: PluginIdentity,
    /// The plugin's own serialized executable.
    pub blob: Vec<u8>,
    /// The signature, if the file was signed ([`SerializedExecutable::sign`]).
    pub signature: Option<ExecutableSignature>,
}

/// A reader over an envelope that refuses to read past its end.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(bad(&format!(
                "truncated in {what} (needs {n} bytes, {} left)",
                self.rest.len()
            )));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }
}

fn bad(why: &str) -> Error {
    Error::InvalidSerializedExecutable(why.to_string())
}

impl SerializedExecutable {
    /// An unsigned envelope.
    pub fn new(identity: PluginIdentity, blob: Vec<u8>) -> SerializedExecutable {
        SerializedExecutable {
            identity,
            blob,
            signature: None,
        }
    }

    /// The envelope's bytes up to (not including) the digest.
    fn body(&self) -> Result<Vec<u8>> {
        let id = &self.identity;
        let mut out = Vec::new();
        out.try_reserve_exact(self.blob.len() + 128)
            .map_err(|_| Error::HostAllocation {
                op: "SerializedExecutable::to_bytes",
                bytes: self.blob.len() + 128,
            })?;
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&id.sha256);
        out.extend_from_slice(&id.api_version.major.to_le_bytes());
        out.extend_from_slice(&id.api_version.minor.to_le_bytes());
        for s in [&id.platform_name, &id.platform_version] {
            let n =
                u32::try_from(s.len()).map_err(|_| bad("a platform string longer than 4 GiB"))?;
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(&(self.blob.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.blob);
        Ok(out)
    }

    /// The SHA-256 every envelope carries (and signatures sign): of everything before it.
    pub fn digest(&self) -> Result<[u8; 32]> {
        Ok(Sha256::digest(self.body()?).into())
    }

    /// Signs the envelope with `key` (replacing any signature).
    pub fn sign(&mut self, key: &SigningKey) -> Result<()> {
        let message = signed_message(&self.digest()?);
        self.signature = Some(ExecutableSignature {
            public_key: key.verifying_key().to_bytes(),
            signature: key.0.sign(&message).to_bytes(),
        });
        Ok(())
    }

    /// Checks that the envelope is signed by `key` and unchanged since: an unsigned
    /// envelope, another signer or a wrong signature is [`Error::UntrustedExecutable`].
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        let Some(sig) = &self.signature else {
            return Err(Error::UntrustedExecutable(format!(
                "the executable is not signed; this deployment only loads executables signed by key {key}"
            )));
        };
        if sig.public_key != key.to_bytes() {
            return Err(Error::UntrustedExecutable(format!(
                "the executable is signed by key {}, not by the trusted key {key}",
                hex(&sig.public_key)
            )));
        }
        let message = signed_message(&self.digest()?);
        let signature = ed25519_dalek::Signature::from_bytes(&sig.signature);
        key.0.verify(&message, &signature).map_err(|_| {
            Error::UntrustedExecutable(format!(
                "the signature by key {key} does not match the executable's contents"
            ))
        })
    }

    /// The envelope's bytes (format version 2: digest, then the signature section).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = self.body()?;
        let digest: [u8; 32] = Sha256::digest(&out).into();
        out.extend_from_slice(&digest);
        match &self.signature {
            None => out.push(SIGNATURE_NONE),
            Some(s) => {
                out.push(SIGNATURE_ED25519);
                out.extend_from_slice(&s.public_key);
                out.extend_from_slice(&s.signature);
            }
        }
        Ok(out)
    }

    /// Parses an envelope, refusing anything that is not one, is truncated, has trailing
    /// bytes, or whose digest does not match its contents (a damaged file). A signature is
    /// read but not trusted: see [`verify`](Self::verify).
    pub fn from_bytes(bytes: &[u8]) -> Result<SerializedExecutable> {
        let mut r = Fields { rest: bytes };
        if r.take(8, "magic").ok() != Some(&MAGIC[..]) {
            return Err(bad("not a serialized executable of this crate (bad magic)"));
        }
        let version = r.u32("format version")?;
        if version == 1 {
            return Err(bad(
                "format version 1 carries no checksum, so a damaged file would reach the plugin; \
                 compile and save it again with this version",
            ));
        }
        if version != FORMAT_VERSION {
            return Err(bad(&format!(
                "format version {version}, this crate reads {FORMAT_VERSION}"
            )));
        }
        let sha256 = r.array::<32>("plugin hash")?;
        let major = r.u32("API version")? as i32;
        let minor = r.u32("API version")? as i32;
        let mut strings = Vec::with_capacity(2);
        for what in ["platform name", "platform version"] {
            let n = r.u32(what)? as usize;
            let s = r.take(n, what)?;
            strings.push(
                std::str::from_utf8(s)
                    .map_err(|_| bad(&format!("{what} is not UTF-8")))?
                    .to_string(),
            );
        }
        let n = u64::from_le_bytes(r.array::<8>("blob length")?);
        let n = usize::try_from(n).map_err(|_| bad("blob length too large"))?;
        let blob = r.take(n, "blob")?;
        let body_len = bytes.len() - r.rest.len();
        let stored = r.array::<32>("digest")?;
        let actual: [u8; 32] = Sha256::digest(&bytes[..body_len]).into();
        if stored != actual {
            return Err(bad(&format!(
                "the digest does not match the contents (stored {}, computed {}): the file is damaged",
                &hex(&stored)[..16],
                &hex(&actual)[..16]
            )));
        }
        let signature = match r.take(1, "signature kind")?[0] {
            SIGNATURE_NONE => None,
            SIGNATURE_ED25519 => Some(ExecutableSignature {
                public_key: r.array::<32>("signer's public key")?,
                signature: r.array::<64>("signature")?,
            }),
            k => return Err(bad(&format!("unknown signature kind {k}"))),
        };
        if !r.rest.is_empty() {
            return Err(bad(&format!("{} trailing bytes", r.rest.len())));
        }
        let blob = crate::literal::try_copy("SerializedExecutable::from_bytes", blob)?;
        let platform_version = strings.pop().unwrap_or_default();
        let platform_name = strings.pop().unwrap_or_default();
        Ok(SerializedExecutable {
            identity: PluginIdentity {
                sha256,
                api_version: ApiVersion { major, minor },
                platform_name,
                platform_version,
            },
            blob,
            signature,
        })
    }
}

fn signed_message(digest: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNING_CONTEXT.len() + 32);
    m.extend_from_slice(SIGNING_CONTEXT);
    m.extend_from_slice(digest);
    m
}

impl Client {
    /// The identity written into executables this client serializes (hashes the plugin file
    /// once per process).
    pub fn identity(&self) -> Result<PluginIdentity> {
        Ok(PluginIdentity {
            sha256: self.plugin().file_sha256()?,
            api_version: self.plugin().api_version(),
            platform_name: self.platform_name().to_string(),
            platform_version: self.platform_version().to_string(),
        })
    }

    /// Loads an executable serialized by [`LoadedExecutable::serialize`]: the envelope's
    /// digest is checked first (a damaged file never reaches the plugin), then its identity
    /// (one made by another plugin is [`Error::ForeignExecutable`]). A signature, if any, is
    /// not required; [`deserialize_executable_verified`](Self::deserialize_executable_verified)
    /// requires one.
    ///
    /// The bytes are native code run by the plugin: load only files you trust (see the
    /// module documentation).
    pub fn deserialize_executable(&self, bytes: &[u8]) -> Result<LoadedExecutable> {
        let s = SerializedExecutable::from_bytes(bytes)?;
        self.load_serialized(&s)
    }

    /// Loads an executable only if it is signed by `key` and unchanged since
    /// ([`Error::UntrustedExecutable`] otherwise), after the checks of
    /// [`deserialize_executable`](Self::deserialize_executable).
    pub fn deserialize_executable_verified(
        &self,
        bytes: &[u8],
        key: &VerifyingKey,
    ) -> Result<LoadedExecutable> {
        let s = SerializedExecutable::from_bytes(bytes)?;
        s.verify(key)?;
        self.load_serialized(&s)
    }

    fn load_serialized(&self, s: &SerializedExecutable) -> Result<LoadedExecutable> {
        let mine = self.identity()?;
        if s.identity != mine {
            return Err(Error::ForeignExecutable {
                expected: mine.to_string(),
                found: s.identity.to_string(),
            });
        }
        let mut a = sys::PJRT_Executable_DeserializeAndLoad_Args::new();
        a.client = self.raw();
        a.serialized_executable = s.blob.as_ptr().cast();
        a.serialized_executable_size = s.blob.len();
        call!(self.api(), PJRT_Executable_DeserializeAndLoad, &mut a)?;
        let exe = LoadedExecutable::new(self, a.loaded_executable)?;
        // Saving it again must give these bytes: the plugins re-serialize a loaded
        // executable without its compiled code (the file loads, then fails to run).
        exe.remember_serialized(s.blob.clone());
        Ok(exe)
    }

    /// Reads a file written by [`LoadedExecutable::save`] and loads it (see
    /// [`deserialize_executable`](Self::deserialize_executable); errors name the file).
    pub fn load_executable(&self, path: impl AsRef<Path>) -> Result<LoadedExecutable> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        self.deserialize_executable(&bytes)
            .map_err(|e| in_file(e, path))
    }

    /// Reads a file written by [`LoadedExecutable::save_signed`] and loads it only if it is
    /// signed by `key` (see [`deserialize_executable_verified`](Self::deserialize_executable_verified)).
    pub fn load_executable_verified(
        &self,
        path: impl AsRef<Path>,
        key: &VerifyingKey,
    ) -> Result<LoadedExecutable> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        self.deserialize_executable_verified(&bytes, key)
            .map_err(|e| in_file(e, path))
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        op: "read executable",
        path: path.to_path_buf(),
        source,
    })
}

/// Adds the file's path to the envelope errors, which otherwise only know bytes.
fn in_file(e: Error, path: &Path) -> Error {
    match e {
        Error::InvalidSerializedExecutable(m) => {
            Error::InvalidSerializedExecutable(format!("{}: {m}", path.display()))
        }
        Error::UntrustedExecutable(m) => {
            Error::UntrustedExecutable(format!("{}: {m}", path.display()))
        }
        Error::ForeignExecutable { expected, found } => Error::ForeignExecutable {
            expected,
            found: format!("{found} (file {})", path.display()),
        },
        Error::Pjrt {
            function,
            code,
            message,
        } => Error::Pjrt {
            function,
            code,
            message: format!("{}: {message}", path.display()),
        },
        other => other,
    }
}

impl LoadedExecutable {
    /// Serializes with the identity of the plugin that made it (an unsigned envelope with a
    /// digest; see the module documentation).
    pub fn serialize(&self) -> Result<Vec<u8>> {
        self.envelope()?.to_bytes()
    }

    /// Serializes and signs with `key`: a deployment holding the matching
    /// [`VerifyingKey`] loads it with [`Client::deserialize_executable_verified`].
    pub fn serialize_signed(&self, key: &SigningKey) -> Result<Vec<u8>> {
        let mut s = self.envelope()?;
        s.sign(key)?;
        s.to_bytes()
    }

    fn envelope(&self) -> Result<SerializedExecutable> {
        Ok(SerializedExecutable::new(
            self.client().identity()?,
            self.serialize_raw()?,
        ))
    }

    /// Serializes into a file (unsigned); [`Client::load_executable`] loads it back, on a client of the
    /// same plugin, without compiling again.
    ///
    /// ```
    /// use pjrt::{Client, Literal, Program};
    ///
    /// let client = Client::default_cpu()?;
    /// let exe = client.compile(&Program::mlir_text(r#"
    ///     func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
    ///       %0 = stablehlo.multiply %x, %x : tensor<2xf32>
    ///       return %0 : tensor<2xf32>
    ///     }"#))?;
    /// let path = std::env::temp_dir().join(format!("square-{}.pjrtx", std::process::id()));
    /// exe.save(&path)?;
    ///
    /// let loaded = client.load_executable(&path)?;
    /// let out = loaded.run(&[&Literal::vector(&[3.0f32, -0.5])])?;
    /// assert_eq!(out[0].to_vec::<f32>()?, [9.0, 0.25]);
    ///
    /// // A damaged file is an error, never a crash in the plugin.
    /// std::fs::write(&path, b"not an executable").unwrap();
    /// assert!(client.load_executable(&path).is_err());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), pjrt::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_file(path.as_ref(), &self.serialize()?)
    }

    /// Serializes into a file, signed with `key` (load it with
    /// [`Client::load_executable_verified`]).
    pub fn save_signed(&self, path: impl AsRef<Path>, key: &SigningKey) -> Result<()> {
        write_file(path.as_ref(), &self.serialize_signed(key)?)
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        op: "write executable",
        path: path.to_path_buf(),
        source,
    })
}

/// Lower-case hexadecimal of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SerializedExecutable {
        SerializedExecutable::new(
            PluginIdentity {
                sha256: [7; 32],
                api_version: ApiVersion {
                    major: 0,
                    minor: 81,
                },
                platform_name: "cpu".into(),
                platform_version: "<unknown>".into(),
            },
            (0..200u8).collect(),
        )
    }

    #[test]
    fn envelope_round_trip() {
        let s = sample();
        let bytes = s.to_bytes().unwrap();
        assert_eq!(&bytes[..8], b"PJRTRSX\0");
        assert_eq!(&bytes[8..12], &2u32.to_le_bytes());
        assert_eq!(SerializedExecutable::from_bytes(&bytes).unwrap(), s);
    }

    #[test]
    fn garbage_and_truncation_are_refused() {
        let e = SerializedExecutable::from_bytes(b"hello world, not an executable").unwrap_err();
        assert!(e.to_string().contains("bad magic"), "{e}");
        let bytes = sample().to_bytes().unwrap();
        for cut in 0..bytes.len() {
            assert!(
                SerializedExecutable::from_bytes(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let e = SerializedExecutable::from_bytes(&longer).unwrap_err();
        assert!(e.to_string().contains("trailing"), "{e}");
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let bytes = sample().to_bytes().unwrap();
        for at in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[at] ^= mask;
                assert!(
                    SerializedExecutable::from_bytes(&b).is_err(),
                    "flip {mask:#x} at {at} was accepted"
                );
            }
        }
    }

    #[test]
    fn version_1_is_refused_with_advice() {
        let mut b = sample().to_bytes().unwrap();
        b[8..12].copy_from_slice(&1u32.to_le_bytes());
        let e = SerializedExecutable::from_bytes(&b).unwrap_err();
        assert!(e.to_string().contains("version 1"), "{e}");
        assert!(e.to_string().contains("save it again"), "{e}");
    }

    #[test]
    fn signatures_verify_only_with_their_key_and_contents() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let other = SigningKey::from_bytes(&[2; 32]);
        let mut s = sample();
        s.sign(&key).unwrap();
        let bytes = s.to_bytes().unwrap();
        let parsed = SerializedExecutable::from_bytes(&bytes).unwrap();
        parsed.verify(&key.verifying_key()).unwrap();
        // Another trusted key: refused.
        let e = parsed.verify(&other.verifying_key()).unwrap_err();
        assert!(matches!(e, Error::UntrustedExecutable(_)), "{e}");
        // Unsigned: refused by a verifying load, accepted by a plain parse.
        let unsigned = SerializedExecutable::from_bytes(&sample().to_bytes().unwrap()).unwrap();
        let e = unsigned.verify(&key.verifying_key()).unwrap_err();
        assert!(e.to_string().contains("not signed"), "{e}");
        // Re-signed by someone else after a change (digest recomputed, valid envelope).
        let mut forged = parsed.clone();
        forged.blob[0] ^= 1;
        forged.sign(&other).unwrap();
        let forged = SerializedExecutable::from_bytes(&forged.to_bytes().unwrap()).unwrap();
        assert!(forged.verify(&key.verifying_key()).is_err());
        // The signer's key swapped in for the trusted one, signature kept: refused.
        let mut swapped = parsed.clone();
        swapped.blob[0] ^= 1;
        let swapped = SerializedExecutable::from_bytes(&swapped.to_bytes().unwrap()).unwrap();
        let e = swapped.verify(&key.verifying_key()).unwrap_err();
        assert!(e.to_string().contains("does not match"), "{e}");
        // Keys round-trip through bytes.
        let k2 = SigningKey::from_bytes(&key.to_bytes());
        assert_eq!(k2.verifying_key(), key.verifying_key());
        let v = VerifyingKey::from_bytes(&key.verifying_key().to_bytes()).unwrap();
        assert_eq!(v, key.verifying_key());
        assert_ne!(
            SigningKey::generate().unwrap().to_bytes(),
            SigningKey::generate().unwrap().to_bytes()
        );
    }
}
