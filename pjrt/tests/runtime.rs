//! Integration tests against a real plugin: `$PJRT_PLUGIN`, else the set-up's default.
//! `scripts/test.sh` runs this once per installed plugin (0.81, 0.106, 0.115).

mod runtime {
    mod basics;
    pub mod common;
}
