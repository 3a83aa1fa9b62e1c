mod char_lm;
mod distributed;
mod fuzz;
mod models;
mod module_cycles;
mod mpi;
mod no_printing;
mod outside;
mod placement;
#[path = "../common/programs.rs"]
mod programs;
mod readme;
mod remat;
mod steps;
mod training;
