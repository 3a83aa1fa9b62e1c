mod char_lm;
mod models;
mod module_cycles;
mod no_printing;
mod outside;
mod readme;
mod training;
