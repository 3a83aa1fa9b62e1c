mod char_lm;
mod models;
mod fuzz;
mod module_cycles;
mod outside;
mod readme;
mod steps;
mod training;
