//! `--json-summary`: the one line an orchestrator reads. Airflow's `BashOperator` pushes the
//! last line a task prints to XCom, so `main` prints this line last, after everything else
//! the command printed on stdout or stderr, and nothing follows it — on success, on a
//! failed or blocked run, and on an error (exit 2 or 4 once the arguments are parsed).
//!
//! Every line is one JSON object with `command` (`check`, `guard`, `publish`), `status`
//! and `exit_code` (the process's exit code, after `--blocked-exit-code`), and by command:
//!
//! - `check`: `run_id`, `status` (the run's: `passed`, `warned`, `failed`, `error`) and
//!   `summary` (the report's counts: `total`, `passed`, `warned`, `failed`, `errored`,
//!   `skipped`).
//! - `guard`: `dataset`, `status` (`may_publish` or `blocked`), `blocked_by` (each halted
//!   breaker as `sluice guard -f json` writes it: `dataset`, `state`, `owner`, `reason`,
//!   `since`, `run_id`, ...).
//! - `publish`: `dataset`, `status` (`published`, `quarantined`, `blocked`,
//!   `rolled_back`); `run_id`, `run_status` and `summary` when the staged data was checked;
//!   `version` and `path` when published or rolled back; `quarantine` (the folder) when
//!   quarantined; `blocked_by` when blocked.
//! - an error: `status` `error` and `error`, the message's first line (the whole message
//!   is on stderr, above).
//!
//! Fields are only added, never renamed or removed.

use serde_json::{Value, json};
use sluice_app::engine::RunReport;
use sluice_app::publish::PublishOutcome;
use sluice_app::views::GuardView;

/// `sluice check --json-summary`.
pub fn check(report: &RunReport, exit_code: u8) -> String {
    json!({
        "command": "check",
        "run_id": report.run_id,
        "status": report.status,
        "summary": report.summary,
        "exit_code": exit_code,
    })
    .to_string()
}

/// `sluice guard X --json-summary`.
pub fn guard(v: &GuardView, exit_code: u8) -> String {
    json!({
        "command": "guard",
        "dataset": v.dataset,
        "status": if v.may_publish { "may_publish" } else { "blocked" },
        "blocked_by": v.blocked_by,
        "exit_code": exit_code,
    })
    .to_string()
}

/// `sluice publish X --json-summary`.
pub fn publish(dataset: &str, outcome: &PublishOutcome, exit_code: u8) -> String {
    let mut line = json!({ "command": "publish", "dataset": dataset });
    let ran = |line: &mut Value, report: &RunReport| {
        line["run_id"] = json!(report.run_id);
        line["run_status"] = json!(report.status);
        line["summary"] = json!(report.summary);
    };
    match outcome {
        PublishOutcome::Published {
            report, promotion, ..
        } => {
            line["status"] = json!("published");
            ran(&mut line, report);
            line["version"] = json!(promotion.version);
            line["path"] = json!(promotion.path);
        }
        PublishOutcome::Quarantined { report, at, .. } => {
            line["status"] = json!("quarantined");
            ran(&mut line, report);
            line["quarantine"] = json!(at);
        }
        PublishOutcome::Blocked { verdict } => {
            line["status"] = json!("blocked");
            line["blocked_by"] = json!(verdict.blocked_by);
        }
        PublishOutcome::RolledBack { rollback } => {
            line["status"] = json!("rolled_back");
            line["version"] = json!(rollback.version);
            line["path"] = json!(rollback.path);
        }
    }
    line["exit_code"] = json!(exit_code);
    line.to_string()
}

/// Any command that stopped on an error, with `message` (its first line is kept).
pub fn error(command: &str, message: &str, exit_code: u8) -> String {
    json!({
        "command": command,
        "status": "error",
        "error": message.lines().next().unwrap_or_default(),
        "exit_code": exit_code,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_line_is_one_line_of_json() {
        let line = error("publish", "nothing staged\n  Cause: x", 4);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error"], "nothing staged");
        assert_eq!(v["exit_code"], 4);
        assert_eq!(v["status"], "error");
    }
}
