//! Stopping a session cleanly: a [`Stop`] is asked for by SIGINT or SIGTERM (or by the
//! caller); the session then cancels its current investigation (the journal lets the next
//! run resume it), writes its report, and the caller releases the lock. A second signal
//! exits at once with status 130, leaving a lock the next session finds stale.

use crate::Runtime;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// Exit status after a second signal.
const FORCED_EXIT: i32 = 130;

/// A request to stop, shared between the session and whoever may ask for it.
#[derive(Debug, Clone)]
pub struct Stop {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Stop {
    fn default() -> Stop {
        Stop::new()
    }
}

impl Stop {
    /// A stop nobody asked for yet.
    pub fn new() -> Stop {
        Stop {
            sender: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Asks SIGINT and SIGTERM to request this stop (the second one exits the process).
    pub fn on_signals(&self, runtime: &Runtime) -> std::io::Result<()> {
        let _context = runtime.0.enter();
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let stop = self.clone();
        runtime.0.spawn(async move {
            loop {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
                if stop.requested() {
                    std::process::exit(FORCED_EXIT);
                }
                stop.request();
            }
        });
        Ok(())
    }

    /// Asks the session to stop.
    pub fn request(&self) {
        self.sender.send_replace(true);
    }

    /// True once a stop was asked for.
    pub fn requested(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves when a stop is asked for.
    pub async fn stopped(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = receiver.wait_for(|stop| *stop).await;
    }

    /// Sleeps for `duration` or until a stop is asked for; true when it was.
    pub fn sleep(&self, runtime: &Runtime, duration: Duration) -> bool {
        runtime.block_on(async {
            tokio::select! {
                _ = tokio::time::sleep(duration) => false,
                _ = self.stopped() => true,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_ends_a_sleep() {
        let runtime = Runtime::new().expect("runtime");
        let stop = Stop::new();
        assert!(!stop.sleep(&runtime, Duration::from_millis(1)));
        let other = stop.clone();
        let asker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.request();
        });
        let started = std::time::Instant::now();
        assert!(stop.sleep(&runtime, Duration::from_secs(30)));
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(stop.requested());
        asker.join().expect("asker");
    }
}
