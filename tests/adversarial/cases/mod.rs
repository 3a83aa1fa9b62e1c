//! The table of cases, by area (one file each), and the files every case may share.

mod autodiff;
mod builder;
mod files;
mod plugins;
mod runtime;
mod train;

use std::path::Path;

use crate::case::{files as names, Case, Ctx, DEFAULT, SQUARE};

/// Every case, in area order.
pub fn all() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(builder::cases());
    v.extend(autodiff::cases());
    v.extend(runtime::cases());
    v.extend(files::cases());
    v.extend(plugins::cases());
    v.extend(train::cases());
    v
}

/// Compiles and saves, once per run, what many cases load: the square and add executables
/// of the default plugin (plain and signed) and the signing key.
pub fn prepare(dir: &Path) -> Result<(), String> {
    let e = |e: pjrt::Error| e.to_string();
    let ctx = Ctx::new(dir.to_path_buf(), dir.to_path_buf());
    let client = ctx.client_of(DEFAULT, 1).map_err(|e| e.to_string())?;
    let square = client
        .compile(&pjrt::Program::mlir_text(SQUARE))
        .map_err(e)?;
    square.save(dir.join(names::SQUARE)).map_err(e)?;
    let key = pjrt::SigningKey::generate().map_err(e)?;
    std::fs::write(dir.join(names::SIGNING_KEY), key.to_bytes()).map_err(|e| e.to_string())?;
    square
        .save_signed(dir.join(names::SQUARE_SIGNED), &key)
        .map_err(e)?;
    let add = client
        .compile(&pjrt::Program::mlir_text(crate::case::ADD))
        .map_err(e)?;
    add.save(dir.join(names::ADD)).map_err(e)?;
    Ok(())
}
