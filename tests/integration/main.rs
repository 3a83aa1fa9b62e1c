mod module_cycles;
mod readme;
mod training;
