//! Diagnostics: a message, the span it is about, and help, rendered like rustc.
//!
//! ```text
//! error: unknown key `thresold` in a `row_count` check
//!   --> sluice.yaml:12:22
//!    |
//! 12 |       - row_count: { thresold: 5 }
//!    |                      ^^^^^^^^ unknown key
//!    |
//!    = help: did you mean `threshold`?
//! ```

use crate::source::{SourceFile, Span};

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// The config cannot be used.
    Error,
    /// The config works but probably not as meant.
    Warning,
}

/// A secondary span with its label ("first defined here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// Where.
    pub span: Span,
    /// What it is.
    pub label: String,
}

/// One problem found in a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// The headline: what is wrong.
    pub message: String,
    /// Where it is wrong, if known.
    pub span: Option<Span>,
    /// Short text under the caret.
    pub label: String,
    /// Other places that explain this one.
    pub related: Vec<Related>,
    /// How to fix it.
    pub help: Option<String>,
    /// Extra context.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error about `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Error,
            message: message.into(),
            span: Some(span),
            label: String::new(),
            related: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Sets the text shown under the caret.
    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    /// Adds the fix.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds the fix when there is one.
    pub fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Points at a second place.
    pub fn related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push(Related {
            span,
            label: label.into(),
        });
        self
    }

    /// Renders this diagnostic against the file it is about.
    pub fn render(&self, file: &SourceFile, color: bool) -> String {
        Renderer { file, color }.render(self)
    }
}

struct Renderer<'a> {
    file: &'a SourceFile,
    color: bool,
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const CYAN: &str = "\x1b[1;36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl Renderer<'_> {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn render(&self, d: &Diagnostic) -> String {
        let (word, style) = match d.level {
            Level::Error => ("error", RED),
            Level::Warning => ("warning", YELLOW),
        };
        let mut out = format!(
            "{}{}\n",
            self.paint(style, word),
            self.paint(BOLD, &format!(": {}", d.message))
        );
        let mut snippets: Vec<(Span, &str, bool)> = Vec::new();
        if let Some(span) = d.span {
            snippets.push((span, d.label.as_str(), true));
        }
        snippets.extend(d.related.iter().map(|r| (r.span, r.label.as_str(), false)));
        let width = snippets
            .iter()
            .map(|(s, _, _)| s.start.line.to_string().len())
            .max()
            .unwrap_or(1);
        let pad = " ".repeat(width);
        let bar = self.paint(BLUE, "|");
        if let Some(span) = d.span {
            out.push_str(&format!(
                "{pad}{} {}\n",
                self.paint(BLUE, "-->"),
                self.file.location(span.start)
            ));
        } else {
            out.push_str(&format!(
                "{pad}{} {}\n",
                self.paint(BLUE, "-->"),
                self.file.path().display()
            ));
        }
        snippets.sort_by_key(|(s, _, _)| s.start);
        if !snippets.is_empty() {
            out.push_str(&format!("{pad} {bar}\n"));
        }
        let mut last_line = None;
        for (span, label, primary) in &snippets {
            let line_no = span.start.line;
            if let Some(last) = last_line
                && line_no > last + 1
            {
                out.push_str(&format!("{}\n", self.paint(BLUE, &format!("{pad}..."))));
            }
            last_line = Some(line_no);
            let text = self.file.line(line_no);
            out.push_str(&format!(
                "{} {bar} {}\n",
                self.paint(BLUE, &format!("{line_no:>width$}")),
                text
            ));
            let line_len = text.chars().count() as u32;
            let start = span.start.col.max(1);
            let end = if span.end.line == line_no {
                span.end.col
            } else {
                line_len + 1
            };
            let len = end.saturating_sub(start).max(1) as usize;
            // Keep tabs so the caret lines up under the same characters.
            let lead: String = text
                .chars()
                .take(start as usize - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let (mark, style) = if *primary { ('^', RED) } else { ('-', BLUE) };
            let marks: String = std::iter::repeat_n(mark, len).collect();
            let marks = if label.is_empty() {
                marks
            } else {
                format!("{marks} {label}")
            };
            out.push_str(&format!(
                "{pad} {bar} {lead}{}\n",
                self.paint(style, &marks)
            ));
        }
        if d.help.is_some() || !d.notes.is_empty() {
            out.push_str(&format!("{pad} {bar}\n"));
        }
        for note in &d.notes {
            out.push_str(&format!(
                "{pad} {} {}\n",
                self.paint(BLUE, "="),
                note_line("note", note)
            ));
        }
        if let Some(help) = &d.help {
            out.push_str(&format!(
                "{pad} {} {}\n",
                self.paint(BLUE, "="),
                note_line(&self.paint(CYAN, "help"), help)
            ));
        }
        out
    }
}

fn note_line(word: &str, text: &str) -> String {
    format!("{word}: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Pos;

    #[test]
    fn renders_like_rustc() {
        let file = SourceFile::new(
            "sluice.yaml",
            "datasets:\n  orders:\n    pth: data/orders.csv\n",
        );
        let span = Span::on_line(Pos { line: 3, col: 5 }, 3);
        let d = Diagnostic::error(span, "unknown key `pth` in dataset `orders`")
            .label("unknown key")
            .help("did you mean `path`?");
        assert_eq!(
            d.render(&file, false),
            "error: unknown key `pth` in dataset `orders`\n \
             --> sluice.yaml:3:5\n  \
             |\n\
             3 |     pth: data/orders.csv\n  \
             |     ^^^ unknown key\n  \
             |\n  \
             = help: did you mean `path`?\n"
        );
    }

    #[test]
    fn related_spans_are_shown_in_line_order() {
        let file = SourceFile::new("c.yaml", "a: 1\nb: 2\nc: 3\nd: 4\n");
        let d = Diagnostic::error(Span::on_line(Pos { line: 4, col: 1 }, 1), "dup")
            .related(Span::on_line(Pos { line: 1, col: 1 }, 1), "first here");
        let text = d.render(&file, false);
        let first = text.find("1 | a: 1").unwrap();
        let second = text.find("4 | d: 4").unwrap();
        assert!(first < second, "{text}");
        assert!(text.contains("- first here"), "{text}");
        assert!(text.contains("..."), "{text}");
    }
}
