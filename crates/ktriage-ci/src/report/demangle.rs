//! A small Rust v0 symbol demangler (`_RNvMs3_NtCs..._11rust_binder7processNtB5_7Process10update_ref`
//! → `<rust_binder::process::Process>::update_ref`), enough for kernel Rust stack frames:
//! crate roots, nested paths, inherent and trait impls, back-references and simple types.
//! Generic arguments are dropped. Anything else leaves the name as printed.

use std::borrow::Cow;

/// Demangles a Rust v0 symbol; other names (and unsupported symbols) are returned as is,
/// without a copy.
pub(crate) fn demangle(name: &str) -> Cow<'_, str> {
    let Some(body) = name.strip_prefix("_R") else {
        return Cow::Borrowed(name);
    };
    let mut p = Parser {
        s: body.as_bytes(),
        pos: 0,
        depth: 0,
    };
    p.path().map_or(Cow::Borrowed(name), Cow::Owned)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: u32,
}

/// Deeper nesting than this (only possible through back-references) is rejected.
const MAX_DEPTH: u32 = 64;

impl Parser<'_> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.s.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        let ok = self.s.get(self.pos) == Some(&b);
        self.pos += usize::from(ok);
        ok
    }

    /// `_` is 0; `<base62>_` is the value plus one.
    fn base62(&mut self) -> Option<usize> {
        if self.eat(b'_') {
            return Some(0);
        }
        let mut value: usize = 0;
        loop {
            let b = self.next()?;
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'z' => b - b'a' + 10,
                b'A'..=b'Z' => b - b'A' + 36,
                b'_' => return value.checked_add(1),
                _ => return None,
            };
            value = value.checked_mul(62)?.checked_add(usize::from(digit))?;
        }
    }

    fn disambiguator(&mut self) -> Option<()> {
        if self.eat(b's') {
            self.base62()?;
        }
        Some(())
    }

    fn ident(&mut self) -> Option<String> {
        self.disambiguator()?;
        if self.eat(b'u') {
            return None; // punycode identifiers are not supported
        }
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        let len: usize = std::str::from_utf8(&self.s[start..self.pos])
            .ok()?
            .parse()
            .ok()?;
        self.eat(b'_');
        let end = self.pos.checked_add(len)?;
        let ident = std::str::from_utf8(self.s.get(self.pos..end)?)
            .ok()?
            .to_owned();
        self.pos = end;
        Some(ident)
    }

    /// Runs `f` at a back-referenced position, then resumes after the reference.
    fn backref<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let target = self.base62()?;
        if target >= self.pos {
            return None;
        }
        let resume = self.pos;
        self.pos = target;
        let out = f(self);
        self.pos = resume;
        out
    }

    fn path(&mut self) -> Option<String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let out = self.path_inner();
        self.depth -= 1;
        out
    }

    fn path_inner(&mut self) -> Option<String> {
        match self.next()? {
            b'C' => self.ident(),
            b'N' => {
                let ns = self.next()?;
                let parent = self.path()?;
                let ident = self.ident()?;
                Some(match ns {
                    b'C' => format!("{parent}::{{closure}}"),
                    b'S' => format!("{parent}::{{shim}}"),
                    _ if ident.is_empty() => parent,
                    _ => format!("{parent}::{ident}"),
                })
            }
            b'M' => {
                self.disambiguator()?;
                self.path()?;
                Some(format!("<{}>", self.type_()?))
            }
            b'X' => {
                self.disambiguator()?;
                self.path()?;
                let ty = self.type_()?;
                Some(format!("<{ty} as {}>", self.path()?))
            }
            b'Y' => {
                let ty = self.type_()?;
                Some(format!("<{ty} as {}>", self.path()?))
            }
            b'I' => {
                let path = self.path()?;
                while !self.eat(b'E') {
                    self.generic_arg()?;
                }
                Some(path)
            }
            b'B' => self.backref(Self::path),
            _ => None,
        }
    }

    fn generic_arg(&mut self) -> Option<()> {
        if self.eat(b'L') {
            self.base62()?;
        } else if self.eat(b'K') {
            return None; // const generics are not supported
        } else {
            self.type_()?;
        }
        Some(())
    }

    fn type_(&mut self) -> Option<String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let out = self.type_inner();
        self.depth -= 1;
        out
    }

    fn type_inner(&mut self) -> Option<String> {
        let b = *self.s.get(self.pos)?;
        if let Some((_, name)) = BASIC_TYPES.iter().find(|(code, _)| *code == b) {
            self.pos += 1;
            return Some((*name).to_owned());
        }
        match b {
            b'R' | b'Q' => {
                self.pos += 1;
                if self.eat(b'L') {
                    self.base62()?;
                }
                let prefix = if b == b'R' { "&" } else { "&mut " };
                Some(format!("{prefix}{}", self.type_()?))
            }
            b'S' => {
                self.pos += 1;
                Some(format!("[{}]", self.type_()?))
            }
            b'B' => {
                self.pos += 1;
                self.backref(Self::type_)
            }
            _ => self.path(),
        }
    }
}

/// One-letter basic types.
const BASIC_TYPES: &[(u8, &str)] = &[
    (b'a', "i8"),
    (b'b', "bool"),
    (b'c', "char"),
    (b'd', "f64"),
    (b'e', "str"),
    (b'f', "f32"),
    (b'h', "u8"),
    (b'i', "isize"),
    (b'j', "usize"),
    (b'l', "i32"),
    (b'm', "u32"),
    (b'n', "i128"),
    (b'o', "u128"),
    (b's', "i16"),
    (b't', "u16"),
    (b'u', "()"),
    (b'v', "..."),
    (b'x', "i64"),
    (b'y', "u64"),
    (b'z', "!"),
    (b'p', "_"),
];

#[cfg(test)]
mod tests {
    use super::demangle;

    #[test]
    fn kernel_rust_frames() {
        assert_eq!(
            demangle("_RNvMs3_NtCshgDM7dBCdno_11rust_binder7processNtB5_7Process10update_ref"),
            "<rust_binder::process::Process>::update_ref"
        );
        assert_eq!(
            demangle("_RNvCscSpY9Juk0HT_7___rustc17rust_begin_unwind"),
            "__rustc::rust_begin_unwind"
        );
        assert_eq!(
            demangle("_RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt"),
            "core::panicking::panic_fmt"
        );
        assert_eq!(demangle("bch2_foo"), "bch2_foo");
        assert_eq!(demangle("_RNvB_"), "_RNvB_");
        assert_eq!(demangle("_R"), "_R");
    }
}
