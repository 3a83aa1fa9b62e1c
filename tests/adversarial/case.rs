//! What a case is, what it may report, and what cases share.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pjrt::{Client, ClientOptions, Plugin};

/// The area a case attacks (the rows of the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    Builder,
    Autodiff,
    Runtime,
    Files,
    Plugins,
    /// The train step and checkpoints of the training API (cases in `cases/train.rs`).
    Train,
}

impl Area {
    pub const ALL: [Area; 6] = [
        Area::Builder,
        Area::Autodiff,
        Area::Runtime,
        Area::Files,
        Area::Plugins,
        Area::Train,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Area::Builder => "builder",
            Area::Autodiff => "autodiff",
            Area::Runtime => "runtime",
            Area::Files => "files",
            Area::Plugins => "plugins",
            Area::Train => "train",
        }
    }
}

/// What a case reports from its own process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The library refused with an error (its message).
    Error(String),
    /// The library produced a result the case checked and found right.
    Correct(String),
    /// The library produced a wrong result, or accepted what it must refuse.
    Wrong(String),
}

/// What a case must report to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A clean error whose message contains this text (case-insensitive).
    Error(&'static str),
    /// A checked, correct result.
    Correct,
}

/// A case's body: runs in its own child process.
pub type Body = Box<dyn Fn(&Ctx) -> Result<Outcome, Failure> + Send + Sync>;

/// Any error a case's body meets (the library's refusal, most of the time).
pub type Failure = Box<dyn std::error::Error>;

/// One adversarial case.
pub struct Case {
    pub name: String,
    pub area: Area,
    pub expect: Expect,
    pub body: Body,
}

/// Builds a case.
pub fn case(
    area: Area,
    name: impl Into<String>,
    expect: Expect,
    body: impl Fn(&Ctx) -> Result<Outcome, Failure> + Send + Sync + 'static,
) -> Case {
    Case {
        name: format!("{}/{}", area.name(), name.into()),
        area,
        expect,
        body: Box::new(body),
    }
}

/// A correct result.
pub fn correct(detail: impl Into<String>) -> Result<Outcome, Failure> {
    Ok(Outcome::Correct(detail.into()))
}

/// A wrong result (or an accepted input that had to be refused).
pub fn wrong(detail: impl Into<String>) -> Result<Outcome, Failure> {
    Ok(Outcome::Wrong(detail.into()))
}

/// `Correct` when `got == want`, else `Wrong` showing both.
pub fn check_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: T,
    want: T,
) -> Result<Outcome, Failure> {
    if got == want {
        correct(format!("{what}: {got:?}"))
    } else {
        wrong(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// The plugin versions the set-up installs.
pub const PLUGINS: [&str; 3] = ["0.81", "0.106", "0.115"];

/// What every case can reach: the installed plugins, clients, and the files the driver
/// prepared once for all cases (compiled and serialized executables, keys).
pub struct Ctx {
    /// The driver's shared folder (read-only for cases; they write into `scratch`).
    pub dir: PathBuf,
    /// A folder of this case's own.
    pub scratch: PathBuf,
}

impl Ctx {
    pub fn new(dir: PathBuf, scratch: PathBuf) -> Ctx {
        Ctx { dir, scratch }
    }

    /// The installed plugin file of a version ("0.81", "0.106", "0.115").
    pub fn plugin_path(version: &str) -> Result<PathBuf, Failure> {
        pjrt::discovery::installed(&format!("cpu-{version}"))
            .ok_or_else(|| format!("plugin cpu-{version} is not installed (make setup)").into())
    }

    /// The plugin of a version, loaded.
    pub fn plugin(&self, version: &str) -> Result<Plugin, Failure> {
        Ok(Plugin::load(Ctx::plugin_path(version)?)?)
    }

    /// A new client of a version's plugin with `devices` CPU devices.
    pub fn client_of(&self, version: &str, devices: i64) -> Result<Client, Failure> {
        Ok(Client::new(
            &self.plugin(version)?,
            &ClientOptions::new().cpu_device_count(devices),
        )?)
    }

    /// The default plugin's client (one device), shared within the case's process.
    pub fn client(&self) -> Result<&'static Client, Failure> {
        static C: OnceLock<Client> = OnceLock::new();
        if let Some(c) = C.get() {
            return Ok(c);
        }
        let c = self.client_of(DEFAULT, 1)?;
        Ok(C.get_or_init(|| c))
    }

    /// A file the driver prepared.
    pub fn shared(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A path in this case's scratch folder.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.scratch.join(name)
    }
}

/// The plugin cases use unless they say otherwise.
pub const DEFAULT: &str = "0.115";

/// `x * x` on f32[3]: the program the prepared executables hold.
pub const SQUARE: &str = r#"
func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = stablehlo.multiply %x, %x : tensor<3xf32>
  return %0 : tensor<3xf32>
}"#;

/// `x + y` on f32[3].
pub const ADD: &str = r#"
func.func @main(%x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
  %0 = stablehlo.add %x, %y : tensor<3xf32>
  return %0 : tensor<3xf32>
}"#;

/// Runs the prepared or any square executable on [1, -2, 3] and checks [1, 4, 9].
pub fn check_square(exe: &pjrt::LoadedExecutable) -> Result<Outcome, Failure> {
    let x = pjrt::Literal::vector(&[1f32, -2., 3.]);
    let out = exe.run(&[&x])?;
    check_eq("square", out[0].to_vec::<f32>()?, vec![1., 4., 9.])
}

/// The file names the driver prepares in the shared folder.
pub mod files {
    /// `SQUARE` compiled on the default plugin and saved unsigned.
    pub const SQUARE: &str = "square.pjrt";
    /// The same, signed with `SIGNING_KEY`.
    pub const SQUARE_SIGNED: &str = "square-signed.pjrt";
    /// `ADD` compiled and saved unsigned (another program for swaps).
    pub const ADD: &str = "add.pjrt";
    /// The signing key's 32 secret bytes.
    pub const SIGNING_KEY: &str = "signing.key";
}

/// Reads a prepared file.
pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    Ok(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// The signing key the driver signed with.
pub fn signing_key(ctx: &Ctx) -> Result<pjrt::SigningKey, Failure> {
    let b = read(&ctx.shared(files::SIGNING_KEY))?;
    let b: [u8; 32] = b.try_into().map_err(|_| "signing key is not 32 bytes")?;
    Ok(pjrt::SigningKey::from_bytes(&b))
}
