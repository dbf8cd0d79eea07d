//! `p2share`: the desktop app (see the `p2share_desktop` library).

// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let launched = std::time::Instant::now();
    let args = p2share_desktop::Args::parse();
    match p2share_desktop::run(args, launched) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
