//! Layout checks of pjrt-sys against the official 0.81 header: `build.rs` runs bindgen over
//! the header that `scripts/setup.sh` installs, and `tests/layout.rs` compares every struct,
//! field offset, enumerator and `PJRT_Api` slot with pjrt-sys's hand-written ones.
