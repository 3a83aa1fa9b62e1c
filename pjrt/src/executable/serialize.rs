//! Serialized executables that carry the identity of the plugin that made them.
//!
//! A plugin's own serialized bytes are not portable: other plugin builds reject them, or
//! (the 0.81 CPU plugin) load them and compute wrong numbers. So we wrap them in an envelope:
//!
//! ```text
//! magic        8 bytes  "PJRTRSX\0"
//! version      u32 LE   1
//! sha256       32 bytes SHA-256 of the plugin file
//! api major    i32 LE
//! api minor    i32 LE
//! platform     u32 LE length + UTF-8 name
//! version      u32 LE length + UTF-8 platform version
//! blob         u64 LE length + the plugin's serialized executable
//! ```

use std::fmt;
use std::path::Path;

use pjrt_sys as sys;

use crate::client::Client;
use crate::error::{ApiVersion, Error, Result};
use crate::executable::loaded::LoadedExecutable;
use crate::plugin::call;

const MAGIC: &[u8; 8] = b"PJRTRSX\0";
const FORMAT_VERSION: u32 = 1;

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

/// A parsed envelope: who made it, and the plugin's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializedExecutable {
    /// The maker's identity.
    pub identity: PluginIdentity,
    /// The plugin's own serialized executable.
    pub blob: Vec<u8>,
}

impl SerializedExecutable {
    /// The envelope's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let id = &self.identity;
        let mut out = Vec::with_capacity(self.blob.len() + 128);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&id.sha256);
        out.extend_from_slice(&id.api_version.major.to_le_bytes());
        out.extend_from_slice(&id.api_version.minor.to_le_bytes());
        for s in [&id.platform_name, &id.platform_version] {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(&(self.blob.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.blob);
        out
    }

    /// Parses an envelope (refusing anything that is not one, or is truncated).
    pub fn from_bytes(bytes: &[u8]) -> Result<SerializedExecutable> {
        let bad = |why: &str| Error::InvalidSerializedExecutable(why.to_string());
        let mut r = bytes;
        let mut take = |n: usize, what: &str| -> Result<&[u8]> {
            if r.len() < n {
                return Err(bad(&format!("truncated in {what}")));
            }
            let (head, tail) = r.split_at(n);
            r = tail;
            Ok(head)
        };
        if take(8, "magic").ok() != Some(&MAGIC[..]) {
            return Err(bad("not a serialized executable of this crate (bad magic)"));
        }
        let u32_at = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let version = u32_at(take(4, "format version")?);
        if version != FORMAT_VERSION {
            return Err(bad(&format!(
                "format version {version}, this crate reads {FORMAT_VERSION}"
            )));
        }
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(take(32, "plugin hash")?);
        let major = u32_at(take(4, "API version")?) as i32;
        let minor = u32_at(take(4, "API version")?) as i32;
        let mut strings = Vec::new();
        for what in ["platform name", "platform version"] {
            let n = u32_at(take(4, what)?) as usize;
            let s = take(n, what)?;
            strings.push(
                String::from_utf8(s.to_vec()).map_err(|_| bad(&format!("{what} is not UTF-8")))?,
            );
        }
        let len_bytes = take(8, "blob length")?;
        let mut l = [0u8; 8];
        l.copy_from_slice(len_bytes);
        let n = usize::try_from(u64::from_le_bytes(l)).map_err(|_| bad("blob too large"))?;
        let blob = take(n, "blob")?.to_vec();
        if !r.is_empty() {
            return Err(bad(&format!("{} trailing bytes", r.len())));
        }
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
        })
    }
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

    /// Loads an executable serialized by [`LoadedExecutable::serialize`], refusing one made by
    /// another plugin ([`Error::ForeignExecutable`]).
    pub fn deserialize_executable(&self, bytes: &[u8]) -> Result<LoadedExecutable> {
        let s = SerializedExecutable::from_bytes(bytes)?;
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
        LoadedExecutable::new(self, a.loaded_executable)
    }

    /// Reads a file written by [`LoadedExecutable::save`] and loads it.
    pub fn load_executable(&self, path: impl AsRef<Path>) -> Result<LoadedExecutable> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            op: "read executable",
            path: path.to_path_buf(),
            source,
        })?;
        self.deserialize_executable(&bytes)
    }
}

impl LoadedExecutable {
    /// Serializes with the identity of the plugin that made it.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let blob = self.serialize_raw()?;
        Ok(SerializedExecutable {
            identity: self.client().identity()?,
            blob,
        }
        .to_bytes())
    }

    /// Serializes into a file; [`Client::load_executable`] loads it back, on a client of the
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
        let path = path.as_ref();
        let bytes = self.serialize()?;
        std::fs::write(path, bytes).map_err(|source| Error::Io {
            op: "write executable",
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Lower-case hexadecimal of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SerializedExecutable {
        SerializedExecutable {
            identity: PluginIdentity {
                sha256: [7; 32],
                api_version: ApiVersion {
                    major: 0,
                    minor: 81,
                },
                platform_name: "cpu".into(),
                platform_version: "<unknown>".into(),
            },
            blob: vec![1, 2, 3],
        }
    }

    #[test]
    fn envelope_round_trip() {
        let s = sample();
        let bytes = s.to_bytes();
        assert_eq!(&bytes[..8], b"PJRTRSX\0");
        assert_eq!(SerializedExecutable::from_bytes(&bytes).unwrap(), s);
    }

    #[test]
    fn garbage_and_truncation_are_refused() {
        let e = SerializedExecutable::from_bytes(b"hello world, not an executable").unwrap_err();
        assert!(e.to_string().contains("bad magic"), "{e}");
        let bytes = sample().to_bytes();
        let e = SerializedExecutable::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(e.to_string().contains("truncated in blob"), "{e}");
    }
}
