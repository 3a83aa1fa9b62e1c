//! Neural-network building blocks as compositions of builder ops: layers, activations,
//! losses, and host-side seeded initialisers.

pub mod init;
