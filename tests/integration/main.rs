
mod readme;
mod training;
