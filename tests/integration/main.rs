mod char_lm;
mod models;
mod module_cycles;
mod outside;
mod placement;
mod readme;
mod steps;
mod training;
