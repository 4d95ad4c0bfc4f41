//! Logs on stderr: `-v`/`-q` -> a tracing filter, `SLUICE_LOG` (EnvFilter syntax)
//! overrides; `--log-format text|json` (or `SLUICE_LOG_FORMAT`) picks the format.
//!
//! The default level: `warn` in text (a person at a terminal reads the report; logs are
//! for trouble), `info` in JSON (a log shipper wants every run and every check as an
//! event). Every run logs `run started` and `run finished` with its run id at `info`
//! (target `sluice::run`); that target is on by default inside an Airflow task (when
//! `AIRFLOW_CTX_DAG_ID` is set), so the task log names the run to look up in
//! `sluice breaker history` and the state store.
//!
//! JSON: one object per line — `timestamp`, `level`, `target`, `message`, the fields of
//! every span the event is in, from the outermost (`run_id` from the run, `dataset` from
//! the dataset...), then the event's own fields (`check`, `status`, `duration_ms`...), and
//! `span`, the innermost span's name. Written whole with one write per line, so lines from
//! concurrent tasks never interleave.

use std::io::Write;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber, span};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::LogFormat;

use sluice_app::engine::RUN_TARGET;

/// Installs the subscriber. Logs go to stderr; results to stdout.
pub fn init(verbose: u8, quiet: u8, color: bool, format: LogFormat) {
    let airflow = std::env::var_os("AIRFLOW_CTX_DAG_ID").is_some_and(|v| !v.is_empty());
    let filter = match std::env::var("SLUICE_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(default_directives(verbose, quiet, format, airflow)),
    };
    match format {
        LogFormat::Text => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(color)
                .with_target(false)
                .try_init();
        }
        LogFormat::Json => {
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(JsonLayer)
                .try_init();
        }
    }
}

/// The filter without `SLUICE_LOG`.
fn default_directives(verbose: u8, quiet: u8, format: LogFormat, airflow: bool) -> String {
    let ours = |level: &str| {
        ["sluice", "sluice_engine", "sluice_spec"]
            .map(|c| format!("{c}={level}"))
            .join(",")
    };
    let base = match (verbose, quiet) {
        (_, q) if q >= 2 => return "off".into(),
        (_, 1) => return ours("error"),
        (0, _) if format == LogFormat::Json => ours("info"),
        (0, _) => ours("warn"),
        (1, _) => ours("info"),
        (2, _) => ours("debug"),
        _ => return "trace".into(),
    };
    if airflow && verbose == 0 {
        format!("{base},{RUN_TARGET}=info")
    } else {
        base
    }
}

/// Span fields, kept in the span's extensions as they are recorded.
struct SpanFields(Map<String, Value>);

/// Collects fields into a JSON map: numbers and booleans as such, the rest as text.
struct Collect<'a>(&'a mut Map<String, Value>);

impl Visit for Collect<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::from(format!("{value:?}")));
    }
}

/// The JSON lines layer.
struct JsonLayer;

impl<S> Layer<S> for JsonLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        attrs.record(&mut Collect(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(f) = span.extensions_mut().get_mut::<SpanFields>()
        {
            values.record(&mut Collect(&mut f.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut own = Map::new();
        event.record(&mut Collect(&mut own));
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::from(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        line.insert("level".into(), Value::from(meta.level().as_str()));
        line.insert("target".into(), Value::from(meta.target()));
        line.insert(
            "message".into(),
            own.remove("message").unwrap_or_else(|| Value::from("")),
        );
        if let Some(scope) = ctx.event_scope(event) {
            let mut innermost = None;
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    for (k, v) in &f.0 {
                        line.insert(k.clone(), v.clone());
                    }
                }
                innermost = Some(span.name());
            }
            if let Some(name) = innermost {
                line.insert("span".into(), Value::from(name));
            }
        }
        line.extend(own);
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_levels() {
        let text = default_directives(0, 0, LogFormat::Text, false);
        assert_eq!(text, "sluice=warn,sluice_engine=warn,sluice_spec=warn");
        assert!(default_directives(0, 0, LogFormat::Json, false).contains("sluice=info"));
        assert_eq!(
            default_directives(0, 0, LogFormat::Text, true),
            format!("{text},sluice::run=info"),
            "the run id shows in Airflow's task log"
        );
        assert_eq!(default_directives(0, 2, LogFormat::Json, true), "off");
        assert!(default_directives(2, 0, LogFormat::Text, true).contains("sluice=debug"));
    }
}
