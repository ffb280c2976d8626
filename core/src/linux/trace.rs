//! `armature run --trace FILE`: one JSON line per executed instruction, system call result,
//! signal delivery and the process's end, written by every thread of the process (and by a
//! forked child) into the same file.

use std::io::Write;
use std::sync::{Arc, Mutex};

use super::signal::lock;

/// The trace file, shared by the threads of a process. Each line goes to the buffer in one
/// piece, so the buffer only ever holds whole lines and each write to the file (a whole
/// buffer) ends at a line's end: a forked child writing to the same open file interleaves
/// whole lines with the parent's, never parts of them.
#[derive(Clone)]
pub struct Trace(Arc<Mutex<Sink>>);

struct Sink {
    out: Box<dyn Write + Send>,
    /// The last line (how the process ended) was written: later lines are dropped, so that
    /// it stays the last.
    closed: bool,
    /// A write failed: the warning was given and tracing stopped.
    failed: bool,
}

impl Sink {
    fn write(&mut self, line: &str) {
        if self.closed || self.failed {
            return;
        }
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        if self.out.write_all(&bytes).is_err() {
            self.fail();
        }
    }

    fn flush(&mut self) {
        if !self.failed && self.out.flush().is_err() {
            self.fail();
        }
    }

    fn fail(&mut self) {
        self.failed = true;
        eprintln!("armature: warning: cannot write the trace file; tracing stops");
    }
}

impl Trace {
    /// A trace written to `out`, which should be buffered (a `BufWriter` over the file).
    pub fn new(out: Box<dyn Write + Send>) -> Trace {
        Trace(Arc::new(Mutex::new(Sink {
            out,
            closed: false,
            failed: false,
        })))
    }

    /// Writes `line` (a JSON object, without its newline).
    pub(super) fn line(&self, line: &str) {
        lock(&self.0).write(line);
    }

    /// Writes the last line, `line`, and flushes: the trace is complete when the process
    /// ends, even by a signal. Lines written after it are dropped.
    pub(super) fn close_with(&self, line: &str) {
        let mut sink = lock(&self.0);
        sink.write(line);
        sink.flush();
        sink.closed = true;
    }

    /// Writes what is buffered to the file (before `execve` replaces the process).
    pub(super) fn flush(&self) {
        lock(&self.0).flush();
    }

    /// Runs `f` (a fork) with what is buffered written and the trace locked, so that a forked
    /// child neither writes the parent's buffered lines a second time nor finds the lock held
    /// by a thread that it does not have.
    pub(super) fn while_flushed<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut sink = lock(&self.0);
        sink.flush();
        f()
    }
}

#[cfg(test)]
mod tests {
    use super::Trace;
    use std::sync::{Arc, Mutex};

    /// A writer into a shared vector, which records each `write` call's bytes apart.
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<Vec<Vec<u8>>>>);

    impl std::io::Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_small_buffer_writes_whole_lines_and_nothing_after_the_last() {
        let writes = Writes::default();
        let trace = Trace::new(Box::new(std::io::BufWriter::with_capacity(
            40,
            writes.clone(),
        )));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let trace = trace.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        trace.line(&format!("{{\"tid\":{t},\"n\":{i}}}"));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        trace.close_with("{\"exit\":0}");
        trace.line("{\"late\":1}");
        trace.flush();
        let writes = writes.0.lock().unwrap();
        assert!(
            writes.iter().all(|w| w.ends_with(b"\n")),
            "every write to the file ends at a line's end"
        );
        let text = String::from_utf8(writes.concat()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4 * 50 + 1);
        assert_eq!(lines.last(), Some(&"{\"exit\":0}"));
        for t in 0..4 {
            let mine: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(&format!("{{\"tid\":{t},")))
                .collect();
            let want: Vec<String> = (0..50)
                .map(|i| format!("{{\"tid\":{t},\"n\":{i}}}"))
                .collect();
            assert_eq!(mine, want, "thread {t}'s lines, whole and in order");
        }
    }
}
