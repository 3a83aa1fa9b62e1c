//! The raw ABI of the PJRT C API (header version 0.114) and of its extensions, written by
//! hand from the header's facts. Names follow the C header exactly.
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

pub mod ext;
