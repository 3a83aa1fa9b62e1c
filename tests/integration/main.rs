
mod training;
