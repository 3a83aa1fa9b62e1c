//! Which plugin file to use when none is named: the `Plugin` entry points into
//! [`crate::discovery`], which holds the order and the places.

use std::path::PathBuf;

use crate::error::Result;
use crate::plugin::Plugin;

impl Plugin {
    /// Where the installer puts the default CPU plugin (PJRT API 0.115): in the per-user
    /// plugin folder ([`crate::discovery::plugins_dir`]), found at run time.
    pub fn setup_default_path() -> PathBuf {
        let p = &crate::discovery::CPU_PLUGINS[0];
        p.path_in(&crate::discovery::plugins_dir().unwrap_or_default())
    }

    /// Finds the plugin to use: `$PJRT_PLUGIN` if set, else an installed plugin, else one
    /// installed by pip (see [`crate::discovery`] for the order and the places).
    pub fn find_default() -> Result<PathBuf> {
        crate::discovery::find_default()
    }

    /// Loads the default plugin (see [`find_default`](Self::find_default)).
    pub fn load_default() -> Result<Plugin> {
        Plugin::load(Self::find_default()?)
    }
}
