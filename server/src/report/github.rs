//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per
//! finding, on its file and line.

use std::io::{self, Write};

use super::CheckReport;
use crate::findings::Severity;

/// Escapes a message as workflow commands require.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(r: &CheckReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in r.findings {
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        writeln!(
            out,
            "::{cmd} file={},line={},endLine={},title={}::{}",
            property(&r.rel(&f.location.file)),
            f.location.span.start_line,
            f.location.span.end_line.max(f.location.span.start_line),
            property(&format!("heapspot {}", f.rule)),
            data(&format!("{} ({})", f.message, f.reason))
        )?;
    }
    let (e, w, i) = r.counts();
    writeln!(out, "heapspot: {e} error(s), {w} warning(s), {i} info")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_the_runner_expects() {
        assert_eq!(super::data("50%\nnext"), "50%25%0Anext");
        assert_eq!(super::property("a:b,c"), "a%3Ab%2Cc");
    }
}
