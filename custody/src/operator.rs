//! What the operator tools (`mdoc-ca`, `mdoc-issuer`, `mdoc-dts`) share on the machine they
//! run on: files only their owner may read, and standard output that may close under them.

use std::fmt::Display;
use std::io::{ErrorKind, Write};
use std::path::Path;

/// The exit status of a tool whose standard output was closed by its reader
/// (`mdoc-ca audit verify | head -1`): that of a process ended by SIGPIPE, as C tools do.
pub const EXIT_CLOSED_PIPE: i32 = 128 + 13;

/// Writes `line` and a newline to standard output. When the reader has gone away the tool
/// ends quietly with [`EXIT_CLOSED_PIPE`], instead of the panic of `println!`; any other
/// write failure ends it with EX_IOERR (74) and a message.
pub fn say(line: impl Display) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(EXIT_CLOSED_PIPE);
        }
        eprintln!("cannot write to standard output: {e}");
        std::process::exit(74);
    }
}

/// [`say`] with `format!` arguments.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::operator::say(::std::format_args!($($arg)*))
    };
}

/// Makes sure the file at `path` exists and only its owner may read or write it: created
/// with mode 0600, or narrowed to 0600 if it was open to its group or others. Databases
/// (SQLite creates its `-wal` and `-shm` files with the main file's mode) and state hold
/// personal data and key material, whatever the umask.
pub fn owner_only_file(path: &Path) -> std::io::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        open.mode(0o600);
        let file = open.open(path)?;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    open.open(path)?;
    Ok(())
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_owner_only_and_an_open_one_is_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.sqlite");
        owner_only_file(&new).unwrap();
        assert_eq!(mode(&new), 0o600);
        let open = dir.path().join("open.sqlite");
        std::fs::write(&open, b"data").unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        owner_only_file(&open).unwrap();
        assert_eq!(mode(&open), 0o600);
        assert_eq!(std::fs::read(&open).unwrap(), b"data", "never truncated");
    }
}
