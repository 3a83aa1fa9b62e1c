//! Whether a client's compiled programs honour placements in a memory kind: a probe
//! program compiled once per plugin and kind.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use crate::client::Client;
use crate::error::{Error, Result};

impl Client {
    /// Checks that compiled programs of this client can place values in `kind`: that a
    /// result declared in `kind` (an `mhlo.memory_kind` result attribute) after an in-program
    /// move (`custom_call @annotate_device_placement`) compiles and is reported in `kind`.
    /// A probe program is compiled once per plugin and kind (the answer is remembered for the
    /// process). The client's default memory kind always passes; a kind it lacks is
    /// [`Error::MemoryKindUnavailable`]; a kind the plugin has but ignores (the CPU plugins
    /// before API 0.115 return every result in `device`) is [`Error::PlacementUnsupported`]
    /// with what the plugin did.
    pub fn check_placement(&self, op: &'static str, kind: &str) -> Result<()> {
        self.check_memory_kinds(op, [kind])?;
        if self.first_device()?.default_memory()?.kind()? == kind {
            return Ok(());
        }
        self.probed(op, kind)
    }

    /// Checks that compiled programs of this client can move a value into `kind` inside the
    /// program (`custom_call @annotate_device_placement`), the default kind included: the
    /// CPU plugins before API 0.115 do not compile such a move at all. Errors as
    /// [`check_placement`](Self::check_placement).
    pub fn check_moves(&self, op: &'static str, kind: &str) -> Result<()> {
        self.check_memory_kinds(op, [kind])?;
        self.probed(op, kind)
    }

    /// The probe's answer for `kind`, compiled once per plugin and kind.
    fn probed(&self, op: &'static str, kind: &str) -> Result<()> {
        type Probes = HashMap<(PathBuf, String), std::result::Result<(), String>>;
        static PROBES: OnceLock<Mutex<Probes>> = OnceLock::new();
        let key = (self.plugin().path().to_path_buf(), kind.to_string());
        let probes = PROBES.get_or_init(|| Mutex::new(HashMap::new()));
        let known = probes
            .lock()
            .map_err(|_| Error::InvalidArgument(format!("{op}: placement probe cache poisoned")))?
            .get(&key)
            .cloned();
        let answer = match known {
            Some(a) => a,
            None => {
                let a = self.probe_placement(kind)?;
                if let Ok(mut m) = probes.lock() {
                    m.insert(key, a.clone());
                }
                a
            }
        };
        answer.map_err(|reason| Error::PlacementUnsupported {
            op,
            kind: kind.to_string(),
            plugin: self.plugin().path().display().to_string(),
            plugin_version: self.plugin().api_version(),
            reason,
        })
    }

    /// Compiles the placement probe for `kind`: `Ok(Err(why))` when the plugin does not
    /// honour it, `Err` when something else failed.
    fn probe_placement(&self, kind: &str) -> Result<std::result::Result<(), String>> {
        if !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Ok(Err(format!(
                "the kind {kind:?} cannot be named in a program"
            )));
        }
        let text = format!(
            r#"module {{
  func.func @main(%arg0: tensor<f32>) -> (tensor<f32> {{mhlo.memory_kind = "{kind}"}}) {{
    %0 = "stablehlo.custom_call"(%arg0) {{call_target_name = "annotate_device_placement", has_side_effect = true, mhlo.frontend_attributes = {{_xla_buffer_placement = "{kind}"}}}} : (tensor<f32>) -> tensor<f32>
    "func.return"(%0) : (tensor<f32>) -> ()
  }}
}}"#
        );
        // Past the compilation cache: the plugin's own compiler is what is asked.
        let options = crate::CompileOptions::new().no_compile_cache();
        let exe = match self.compile_with(&crate::Program::mlir_text(text), &options) {
            Ok(e) => e,
            Err(e @ Error::Pjrt { .. }) => {
                return Ok(Err(format!(
                    "a program that moves a value there does not compile: {e}"
                )))
            }
            Err(e) => return Err(e),
        };
        let answer = match exe.executable().output_memory_kinds() {
            Ok(k) if k.len() == 1 && k[0] == kind => Ok(()),
            Ok(k) => Err(format!(
                "a result declared in `{kind}` is reported in {k:?}"
            )),
            Err(e) => Err(format!("it cannot report where results live ({e})")),
        };
        tracing::debug!(target: "pjrt::placement", kind, ?answer, "placement probe");
        Ok(answer)
    }

    /// Checks that compiled programs of this client can take compiler-chosen layouts
    /// (`mhlo.layout_mode = "auto"`) on the entry point's results and, when `parameters`,
    /// on its parameters: that a probe program with them compiles and its executable
    /// reports the layouts chosen (through the Layouts extension), without which no buffer
    /// could be made in them. Compiled once per plugin (the answer is remembered for the
    /// process). Otherwise [`Error::AutoLayoutUnsupported`] naming the plugin and what it did
    /// (the CPU plugin at API 0.81 compiles auto layouts but cannot report parameter
    /// layouts).
    pub fn check_auto_layouts(&self, op: &'static str, parameters: bool) -> Result<()> {
        type Probes = HashMap<PathBuf, (AutoAnswer, AutoAnswer)>;
        type AutoAnswer = std::result::Result<(), String>;
        static PROBES: OnceLock<Mutex<Probes>> = OnceLock::new();
        let key = self.plugin().path().to_path_buf();
        let probes = PROBES.get_or_init(|| Mutex::new(HashMap::new()));
        let known = probes
            .lock()
            .map_err(|_| Error::InvalidArgument(format!("{op}: layout probe cache poisoned")))?
            .get(&key)
            .cloned();
        let (params, results) = match known {
            Some(a) => a,
            None => {
                let a = self.probe_auto_layouts()?;
                if let Ok(mut m) = probes.lock() {
                    m.insert(key, a.clone());
                }
                a
            }
        };
        let refuse = |what: &'static str, reason: String| Error::AutoLayoutUnsupported {
            op,
            what,
            plugin: self.plugin().path().display().to_string(),
            plugin_version: self.plugin().api_version(),
            reason,
        };
        results.map_err(|r| refuse("result", r))?;
        if parameters {
            params.map_err(|r| refuse("parameter", r))?;
        }
        Ok(())
    }

    /// Compiles the auto-layout probe: (parameters, results), each `Err(why)` when unusable.
    #[allow(clippy::type_complexity)]
    fn probe_auto_layouts(
        &self,
    ) -> Result<(
        std::result::Result<(), String>,
        std::result::Result<(), String>,
    )> {
        let text = r#"module {
  func.func @main(%arg0: tensor<4x2xf32> {mhlo.layout_mode = "auto"}) -> (tensor<2x4xf32> {mhlo.layout_mode = "auto"}) {
    %0 = "stablehlo.transpose"(%arg0) {permutation = array<i64: 1, 0>} : (tensor<4x2xf32>) -> tensor<2x4xf32>
    "func.return"(%0) : (tensor<2x4xf32>) -> ()
  }
}"#;
        let options = crate::CompileOptions::new().no_compile_cache();
        let exe = match self.compile_with(&crate::Program::mlir_text(text), &options) {
            Ok(e) => e,
            Err(e @ Error::Pjrt { .. }) => {
                let why = format!("a program with auto layouts does not compile: {e}");
                return Ok((Err(why.clone()), Err(why)));
            }
            Err(e) => return Err(e),
        };
        let Some(l) = self.plugin().extension::<crate::ext::layouts::Layouts>() else {
            let why =
                "the plugin has no Layouts extension to report the layouts chosen".to_string();
            return Ok((Err(why.clone()), Err(why)));
        };
        let read = |r: Result<Vec<String>>, what: &str| match r {
            Ok(v) if v.len() == 1 => Ok(()),
            Ok(v) => Err(format!("it reports {} {what} layouts for 1", v.len())),
            Err(e) => Err(format!("it cannot report the {what} layouts chosen ({e})")),
        };
        let params = read(
            l.executable_parameter_layouts(exe.executable()),
            "parameter",
        );
        let results = read(l.executable_output_layouts(exe.executable()), "result");
        tracing::debug!(target: "pjrt::placement", ?params, ?results, "auto layout probe");
        Ok((params, results))
    }
}
