//! `awaitify`: clap args -> validated config -> run -> exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = awaitify::cli::Args::parse();
    let config = match args.into_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("awaitify: {e:#}");
            return ExitCode::from(2);
        }
    };
    match awaitify::run::run(&config) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("awaitify: {e:#}");
            ExitCode::from(2)
        }
    }
}
