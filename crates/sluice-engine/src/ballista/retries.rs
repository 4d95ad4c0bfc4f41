//! Whether Ballista re-ran any of a run's tasks. When an executor is lost, the scheduler
//! puts its running tasks, and the finished ones whose shuffle output it held, back in
//! the queue; the job can then succeed with complete results, and its client is told
//! nothing (a job's status carries no attempts). The scheduler's execution graph keeps
//! every task it launched, the lost ones as failed: sluice records the id of each job
//! its session ran ([`Jobs`]) and, at the end of the run, reads each job's stages from
//! the scheduler's REST API (`GET /api/job/{id}/stages`, on the gRPC port) and reports
//! the tasks that failed and were re-run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ballista_core::execution_plans::DistributedQueryExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::protobuf::LogicalPlanNode;
use serde_json::Value;

use crate::report::Retry;

/// How long the scheduler gets to answer for one job.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The jobs a session ran to completion, and the scheduler's HTTP address.
#[derive(Debug)]
pub(crate) struct Jobs {
    url: String,
    ids: Mutex<Vec<String>>,
}

impl Jobs {
    pub(crate) fn new(url: String) -> Jobs {
        Jobs {
            url,
            ids: Mutex::new(Vec::new()),
        }
    }

    /// Records the job `plan` ran, when it is a Ballista query that reached the scheduler.
    pub(crate) fn record(&self, plan: &Arc<dyn ExecutionPlan>) {
        let Some(query) = plan.downcast_ref::<DistributedQueryExec<LogicalPlanNode>>() else {
            return;
        };
        if let Some(id) = query.job_id() {
            let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
            if !ids.iter().any(|i| i == id.as_str()) {
                ids.push(id.to_string());
            }
        }
    }

    /// The re-run tasks of every recorded job, job by job and stage by stage. When the
    /// scheduler cannot say (its REST API is off, or it restarted), one entry says so:
    /// a run never claims "no retries" it could not see.
    pub(crate) async fn retries(self: &Arc<Self>) -> Vec<Retry> {
        let jobs = self.clone();
        tokio::task::spawn_blocking(move || jobs.retries_blocking())
            .await
            .unwrap_or_else(|e| vec![unknown("all", &format!("the lookup stopped: {e}"))])
    }

    fn retries_blocking(&self) -> Vec<Retry> {
        let ids = self.ids.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let mut out = Vec::new();
        for id in ids {
            let url = format!("{}/api/job/{id}/stages", self.url);
            match stages(&agent, &url) {
                Ok(v) => out.extend(rerun_tasks(&id, &v)),
                Err(cause) => {
                    tracing::warn!(job = %id, %url, %cause, "cannot tell whether Ballista re-ran tasks");
                    out.push(unknown(&id, &cause));
                }
            }
        }
        out
    }
}

fn stages(agent: &ureq::Agent, url: &str) -> Result<Value, String> {
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!(
            "GET {url} answered {status}: {}",
            text.trim().chars().take(200).collect::<String>()
        ));
    }
    serde_json::from_str(&text).map_err(|e| format!("GET {url}: not the stages of a job: {e}"))
}

fn unknown(job: &str, cause: &str) -> Retry {
    Retry {
        job: job.to_string(),
        stage: None,
        tasks: None,
        reason: format!("unknown: the scheduler could not be asked ({cause})"),
    }
}

/// The failed tasks of each stage of job `id` in its `GET /api/job/{id}/stages` answer,
/// one entry per stage and reason. A failed task in a job that succeeded was re-run.
fn rerun_tasks(id: &str, stages: &Value) -> Vec<Retry> {
    let mut out: Vec<Retry> = Vec::new();
    for stage in stages["stages"].as_array().into_iter().flatten() {
        let stage_id = match &stage["stage_id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        for task in stage["tasks"].as_array().into_iter().flatten() {
            let Some(failed) = task["status"].get("Failed") else {
                continue;
            };
            let reason = failed["error"]
                .as_str()
                .filter(|e| !e.is_empty())
                .or_else(|| failed["reason"].as_str())
                .unwrap_or("failed")
                .to_string();
            match out
                .iter_mut()
                .find(|r| r.stage.as_deref() == Some(stage_id.as_str()) && r.reason == reason)
            {
                Some(r) => *r.tasks.get_or_insert(0) += 1,
                None => out.push(Retry {
                    job: id.to_string(),
                    stage: Some(stage_id.clone()),
                    tasks: Some(1),
                    reason,
                }),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_tasks_are_counted_per_stage_and_reason() {
        let v = serde_json::json!({"stages": [
            {"stage_id": "1", "tasks": [
                {"id": 0, "status": {"Failed": {"reason": "ResultLost", "error": "Task failure due to Executor e1 lost"}}},
                {"id": 1, "status": {"Failed": {"reason": "ResultLost", "error": "Task failure due to Executor e1 lost"}}},
                {"id": 2, "status": "Successful"},
                {"id": 3, "status": "Successful"}
            ]},
            {"stage_id": "2", "tasks": [{"id": 0, "status": "Successful"}]}
        ]});
        let r = rerun_tasks("j1", &v);
        assert_eq!(
            r,
            vec![Retry {
                job: "j1".into(),
                stage: Some("1".into()),
                tasks: Some(2),
                reason: "Task failure due to Executor e1 lost".into(),
            }]
        );
    }

    #[test]
    fn a_scheduler_that_cannot_be_asked_is_an_unknown_retry_not_none() {
        // Nothing listens on port 1 of loopback.
        let jobs = Jobs::new("http://127.0.0.1:1".into());
        jobs.ids.lock().unwrap().push("j1".into());
        let r = jobs.retries_blocking();
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!((r[0].job.as_str(), r[0].tasks), ("j1", None));
        assert!(
            r[0].reason
                .starts_with("unknown: the scheduler could not be asked ("),
            "{r:?}"
        );
    }

    #[test]
    fn a_job_without_failed_tasks_has_no_retries() {
        let v = serde_json::json!({"stages": [{"stage_id": "1", "tasks": [{"id": 0, "status": "Successful"}]}]});
        assert!(rerun_tasks("j", &v).is_empty());
        assert!(rerun_tasks("j", &serde_json::json!({})).is_empty());
    }
}
