//! The `heapspot` binary: parses arguments and hands over to the library's CLI.

use clap::Parser;

fn main() {
    let cli = heapspot::cli::Cli::parse();
    if matches!(cli.command, heapspot::cli::Command::Lsp) {
        // The protocol owns stdout: it must not be locked here.
        if let Err(e) = heapspot::cli::run_lsp() {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("heapspot: {}", e.message);
            }
            std::process::exit(e.code);
        }
        return;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = heapspot::cli::run(cli, &mut out);
    let flushed = std::io::Write::flush(&mut out);
    match (result, flushed) {
        (Ok(()), Ok(())) => {}
        (Err(e), _) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("heapspot: {}", e.message);
            }
            std::process::exit(e.code);
        }
        (Ok(()), Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        (Ok(()), Err(e)) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("heapspot: writing output: {e}");
            }
            std::process::exit(1);
        }
    }
}
