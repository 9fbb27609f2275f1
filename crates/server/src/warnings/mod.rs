//! Warnings from complaints: signals, the queue, administrative notices,
//! consumer alerts and risk reports with their workflow
//! (`complaints::warning`), and the public's consumer alerts.

pub mod api;
pub mod job;
pub mod pages;
pub mod service;
