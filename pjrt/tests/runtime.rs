//! Integration tests against a real plugin: `$PJRT_PLUGIN`, else the set-up's default.
//! `scripts/test.sh` runs this once per installed plugin (0.81, 0.106, 0.115); tests adapt to
//! the plugin's API version where a function is newer than some plugin.

mod capi;

mod runtime {
    mod aligned;
    pub mod common;
    mod compile_cache;
    mod discovery;
    mod execute;
    mod handles;
    mod kv_tcp;
    mod layouts;
    #[cfg(feature = "ndarray")]
    mod ndarray;
    mod placement;
    mod plugin_client;
    mod serialize;
    mod transfers;
}
