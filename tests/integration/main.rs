mod char_lm;
mod distributed;
mod models;
mod module_cycles;
mod outside;
mod readme;
mod training;
