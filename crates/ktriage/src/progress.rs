//! Progress bars on stderr (hidden with `--quiet` or when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;

/// An indicatif-backed [`ktriage_index::Progress`].
pub struct Bar {
    quiet: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    /// A bar that shows nothing when `quiet`.
    pub fn new(quiet: bool) -> Bar {
        Bar {
            quiet,
            bar: Mutex::new(None),
        }
    }
}

impl ktriage_index::Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        if self.quiet {
            return;
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .expect("the template is valid")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(what.to_string());
        *self.bar.lock().expect("progress lock is never poisoned") = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self
            .bar
            .lock()
            .expect("progress lock is never poisoned")
            .as_ref()
        {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self
            .bar
            .lock()
            .expect("progress lock is never poisoned")
            .take()
        {
            bar.finish_and_clear();
        }
    }
}
