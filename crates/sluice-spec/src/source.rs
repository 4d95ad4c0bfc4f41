//! Source text and positions: what a diagnostic points at.
//!
//! Positions are 1-based lines and 1-based columns counted in characters (not bytes), the
//! convention of rustc and of every editor's "go to line:col".

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

/// A range in a source file: `start` inclusive, `end` exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First character of the range.
    pub start: Pos,
    /// One past the last character of the range.
    pub end: Pos,
}

impl Span {
    /// A span covering `len` characters on one line from `start`.
    pub fn on_line(start: Pos, len: u32) -> Span {
        Span {
            start,
            end: Pos {
                line: start.line,
                col: start.col + len,
            },
        }
    }

    /// The span that starts `offset` characters after this one's start and is `len` long,
    /// on the same line. Used to point inside a scalar (a `${VAR}` in a path, say).
    pub fn sub(&self, offset: u32, len: u32) -> Span {
        Span::on_line(
            Pos {
                line: self.start.line,
                col: self.start.col + offset,
            },
            len,
        )
    }
}

/// A config file's path and text, kept so diagnostics can quote the offending line.
#[derive(Clone, Debug)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps the text read from `path`.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        // Line breaks as YAML counts them (and so the parser's positions): `\n`, `\r\n`, and a
        // lone `\r`.
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i + 1);
            }
        }
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// The path the file was read from, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text of 1-based line `line`, without its line break; empty past the end.
    pub fn line(&self, line: u32) -> &str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1) as usize) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line as usize)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// `pos` moved inside the text: a line past the last one becomes the end of the last
    /// line (the YAML parser puts the end of the input on the line after it), and line and
    /// column are at least 1. Constant time unless the line is past the end: the parser's
    /// positions all go through here.
    pub fn clamp(&self, pos: Pos) -> Pos {
        let lines = self.line_starts.len() as u32;
        if pos.line > lines {
            let end = self.line(lines).chars().count() as u32 + 1;
            return Pos {
                line: lines,
                col: end,
            };
        }
        Pos {
            line: pos.line.max(1),
            col: pos.col.max(1),
        }
    }

    /// `path:line:col` of a position, the form editors and terminals turn into links.
    pub fn location(&self, pos: Pos) -> Location {
        Location {
            path: self.path.display().to_string(),
            pos,
        }
    }
}

/// `file:line:col`, printable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file's path as the user gave it.
    pub path: String,
    /// The position in it.
    pub pos: Pos,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.pos.line, self.pos.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_trimmed() {
        let f = SourceFile::new("a.yaml", "one\r\ntwo\nthree");
        assert_eq!(f.line(1), "one");
        assert_eq!(f.line(2), "two");
        assert_eq!(f.line(3), "three");
        assert_eq!(f.line(4), "");
        assert_eq!(
            f.location(Pos { line: 2, col: 3 }).to_string(),
            "a.yaml:2:3"
        );
    }

    #[test]
    fn positions_past_the_end_are_clamped_to_it() {
        let f = SourceFile::new("a.yaml", "ab\ncde");
        let p = |line, col| Pos { line, col };
        assert_eq!(f.clamp(p(3, 1)), p(2, 4));
        assert_eq!(f.clamp(p(2, 2)), p(2, 2));
        assert_eq!(f.clamp(p(0, 0)), p(1, 1));
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line_as_in_yaml() {
        let f = SourceFile::new("a.yaml", "one\rtwo\r\nthree\nfour");
        assert_eq!(
            (1..=5).map(|l| f.line(l)).collect::<Vec<_>>(),
            ["one", "two", "three", "four", ""]
        );
    }
}
