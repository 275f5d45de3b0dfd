//! End-to-end tests: the real `ktriage` binary over generated repositories.
