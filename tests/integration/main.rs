mod readme;
mod training;
