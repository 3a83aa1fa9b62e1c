mod outside;
mod readme;
mod training;
