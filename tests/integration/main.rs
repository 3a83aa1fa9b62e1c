mod char_lm;
mod fuzz;
mod models;
mod module_cycles;
mod outside;
mod readme;
mod steps;
mod training;
