//! Extension structs (one module per extension header).
