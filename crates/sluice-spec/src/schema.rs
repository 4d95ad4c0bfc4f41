//! The JSON Schema of `sluice.yaml`, for editors (yaml-language-server completes keys and
//! flags mistakes as you type) and for other tools that want to check a config without
//! running sluice.
//!
//! It is generated from the lists the decoder reads: the top-level, dataset, stage... keys
//! (`decode::keys`) and the check-kind registry ([`crate::kinds::KINDS`]: every kind, its
//! options and its threshold keys). What the lists cannot say — the type of each key — is
//! declared here, one function per block; a key the decoder accepts without a type here
//! is a panic when the schema is built (and so a failing test), never a silently
//! permissive schema.
//!
//! Draft-07, the version yaml-language-server (and VS Code's JSON support) implement in
//! full. Every object is closed (`additionalProperties: false`), as the decoder refuses
//! unknown keys; a value may be a `${VAR}` wherever the decoder reads a number or a
//! boolean, as variables are replaced before decoding.
//!
//! To add a top-level block (e.g. `openlineage:`, `notify:`): add its key to the
//! decoder's `TOP_KEYS` and a row in [`top_level`] returning its schema (reuse the helpers
//! below, and [`object`] so its own keys are checked the same way).

use serde_json::{Map, Value, json};

use crate::decode::keys;
use crate::kinds::{KINDS, KindInfo, ThresholdClass};
use crate::model::{COLUMN_TYPES, EXPOSURE_TYPES, TEXT_FORMATS};

/// The `$id` of the schema: where the committed copy lives in the repository.
pub const SCHEMA_ID: &str =
    "https://raw.githubusercontent.com/sluice-data/sluice/main/configs/sluice.schema.json";

/// The JSON Schema of `sluice.yaml`, pretty-printed with a final newline (what
/// `sluice schema` prints and `configs/sluice.schema.json` holds).
pub fn json_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("a schema serialises");
    s.push('\n');
    s
}

/// The JSON Schema (draft-07) of `sluice.yaml`.
pub fn json_schema() -> Value {
    let mut definitions = Map::new();
    let check = check_item(&mut definitions);
    definitions.insert("check".into(), check);
    definitions.insert("dataset".into(), dataset());
    definitions.insert("breaker".into(), breaker());
    definitions.insert("parity".into(), parity());
    definitions.insert("stage".into(), stage());
    definitions.insert("reconcile".into(), reconcile());
    definitions.insert("exposure".into(), exposure());
    definitions.insert("compare_options".into(), compare_options());
    for (name, def) in [
        ("names", names_def()),
        ("number", number_def()),
        ("non_negative", non_negative_def()),
        ("uint", uint_def()),
        ("boolean", boolean_def()),
        ("duration", duration_def()),
        ("severity", severity_def()),
        ("column_type", column_type_def()),
    ] {
        definitions.insert(name.into(), def);
    }
    definitions.insert(
        "var".into(),
        json!({
            "description": "a `${VAR}` (or `${VAR:-default}`), replaced before the config is read",
            "type": "string",
            "pattern": "^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$"
        }),
    );
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "sluice.yaml",
        "description": "A sluice config: datasets and their checks, stages, reconciliations, exposures, lineage sources, the state store.",
        "type": "object",
        "properties": properties("the config file", keys::TOP_KEYS, top_level),
        "required": ["datasets"],
        "additionalProperties": false,
        "definitions": definitions,
    })
}

/// A config's YAML text as JSON, as written: `${VAR}`s are left as they are (a validator
/// checks the file an editor shows). `None` when the text is not YAML.
pub fn yaml_as_json(text: &str) -> Option<Value> {
    let file = crate::SourceFile::new(std::path::Path::new("sluice.yaml"), text.to_string());
    let mut ignored = Vec::new();
    let vars = crate::Vars::isolated(Default::default());
    crate::yaml::parse(&file, &vars, &mut ignored).map(|n| to_json(&n))
}

fn to_json(node: &crate::yaml::Node) -> Value {
    use crate::yaml::Value as Y;
    match &node.value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Int(i) => Value::from(*i),
        Y::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Y::Str(s) => Value::String(s.clone()),
        Y::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Y::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.key().to_string(), to_json(v)))
                .collect(),
        ),
    }
}

/// The schema of each top-level key.
fn top_level(key: &str) -> Option<Value> {
    Some(match key {
        "version" => json!({ "description": "The config format's version: 1.", "const": 1 }),
        "defaults" => object(
            "`defaults`",
            keys::DEFAULTS_KEYS,
            |k| match k {
                "severity" => Some(severity()),
                "samples" => Some(samples()),
                "breaker" => Some(reference("breaker")),
                _ => None,
            },
            &[],
        )
        .described("What every check and breaker gets unless it says otherwise."),
        "datasets" => named_map(
            "Each key a dataset name, with its `path:` and `checks:`.",
            reference("dataset"),
        ),
        "stages" => named_map(
            "The jobs between datasets: each stage's `inputs:` and `outputs:` (or its `sql:`).",
            reference("stage"),
        ),
        "reconcile" => named_map(
            "Datasets that must agree on the same facts, matched by key.",
            reference("reconcile"),
        ),
        "exposures" => named_map(
            "What consumes the data (dashboards, models, applications): lineage leaves with owners.",
            reference("exposure"),
        ),
        "lineage" => object(
            "`lineage`",
            keys::LINEAGE_KEYS,
            |k| match k {
                "dbt" => Some(names().described("dbt target/manifest.json files.")),
                "openlineage" => {
                    Some(names().described("OpenLineage RunEvent files, one JSON object per line."))
                }
                "include_tests" => Some(boolean()),
                "dialect" => Some(dialect()),
                "mapping" => Some(json!({
                    "description": "A dataset's other names in dbt or OpenLineage: `orders_clean: [model.shop.orders]`.",
                    "type": "object",
                    "additionalProperties": names(),
                })),
                _ => None,
            },
            &[],
        )
        .described("Other sources of the lineage graph."),
        "state" => string().described(
            "The state store: `sqlite:PATH` or `postgres://...` (SLUICE_STATE overrides).",
        ),
        "quarantine" => string().described("Where failed staged data is moved (default `quarantine/`)."),
        "history" => object(
            "`history`",
            &["keep"],
            |k| (k == "keep").then(duration),
            &[],
        )
        .described("How long metric history is kept: `keep: 400d`."),
        "notify" => notify(),
        "openlineage" => object(
            "`openlineage`",
            keys::OPENLINEAGE_KEYS,
            |k| {
                Some(match k {
                    "url" => string().described("POST run events to this endpoint (its base URL)."),
                    "endpoint" => string().described("The path joined to `url` (default api/v1/lineage)."),
                    "api_key" => string().described("Sent as a bearer token; write it as ${VAR}."),
                    "namespace" => string(),
                    "file" => string().described("Append run events to this NDJSON file."),
                    "timeout" => duration(),
                    _ => return None,
                })
            },
            &[],
        )
        .described("Where OpenLineage run events of check and publish go."),
        "serve" => object(
            "`serve`",
            &["token_env"],
            |k| (k == "token_env").then(|| string().described("The environment variable holding the API token (default SLUICE_TOKEN).")),
            &[],
        )
        .described("Settings of `sluice serve`."),
        "engine" => string().described("Where the queries run: `datafusion` (in-process, the default) or `ballista://HOST:PORT` (a Ballista scheduler; needs a sluice built with the `ballista` feature)."),
        "storage" => json!({
            "description": "How to reach object stores, per URL prefix (`s3://lake/`): the longest matching prefix applies.",
            "type": "object",
            "propertyNames": { "pattern": "^(s3|s3a|gs|az|azure|abfs|abfss|https?)://[^/]+" },
            "additionalProperties": storage(),
        }),
        _ => return None,
    })
}

/// `notify:`: channels, routes, retry.
fn notify() -> Value {
    let endpoint = json!({
        "anyOf": [
            string(),
            object("an endpoint", keys::ENDPOINT_KEYS, |k| Some(match k {
                "url" => string(),
                "url_env" => string().described("The environment variable holding the URL, read when an alert is sent."),
                "headers" => string_map(),
                _ => return None,
            }), &[]),
        ]
    });
    let channel = object(
        "a channel",
        keys::CHANNEL_KEYS,
        |k| {
            Some(match k {
                "webhook" => endpoint.clone().described("sluice's alert JSON, POSTed to this URL."),
                "slack" => endpoint.clone().described("A Slack incoming webhook."),
                "exec" => names().described("A command ([program, args…], or a string run by `sh -c`) that gets the alert as JSON on stdin."),
                "timeout" => duration(),
                _ => return None,
            })
        },
        &[],
    );
    let tiers = json!({ "anyOf": [uint(), { "type": "array", "items": uint(), "minItems": 1 }] });
    let route = object(
        "a route",
        keys::ROUTE_KEYS,
        |k| {
            Some(match k {
                "when" => object(
                    "`when`",
                    keys::WHEN_KEYS,
                    |k| {
                        Some(match k {
                            "event" => names(),
                            "tier" => tiers.clone(),
                            "owner" | "dataset" => names(),
                            _ => return None,
                        })
                    },
                    &[],
                ),
                "to" => names().described("The channels this route sends to."),
                _ => return None,
            })
        },
        &["to"],
    );
    object(
        "`notify`",
        keys::NOTIFY_KEYS,
        |k| {
            Some(match k {
                "channels" => named_map(
                    "Alert channels by name: each has one of `webhook`, `slack`, `exec`.",
                    channel.clone(),
                ),
                "routes" => json!({ "type": "array", "items": route.clone() }),
                "retry" => object(
                    "`retry`",
                    keys::NOTIFY_RETRY_KEYS,
                    |k| {
                        Some(match k {
                            "attempts" => uint(),
                            "backoff" | "within" => duration(),
                            _ => return None,
                        })
                    },
                    &[],
                ),
                _ => return None,
            })
        },
        &[],
    )
    .described("Where breaker transitions and failed runs are sent (alerts).")
}

fn dataset() -> Value {
    object(
        "a dataset",
        keys::DATASET_KEYS,
        |k| {
            Some(match k {
                "path" => string().described("A file, a folder or a glob, relative to this file."),
                "format" => json!({
                    "description": "The file format (default: from the extension); `delta` for a Delta Lake table (a folder holding `_delta_log/`). `iceberg` is recognised but not supported yet.",
                    "enum": ["parquet", "csv", "tsv", "json", "ndjson", "jsonl", "arrow", "ipc", "feather", "delta", "deltalake", "delta_lake", "iceberg"]
                }),
                "csv" => object(
                    "`csv`",
                    keys::CSV_KEYS,
                    |k| match k {
                        "header" => Some(boolean()),
                        "delimiter" | "quote" => Some(string()),
                        "null_value" => Some(json!({ "type": "string" })),
                        _ => None,
                    },
                    &[],
                ),
                "partitions" => json!({
                    "description": "Hive-style partition folders: `auto`, `none`, a list of names or a mapping of name to type.",
                    "anyOf": [
                        { "enum": ["auto", "none", false] },
                        names(),
                        { "type": "object", "additionalProperties": column_type() }
                    ]
                }),
                "key" => names().described("The columns identifying a row."),
                "owner" | "description" => text(),
                "tier" => {
                    json!({ "description": "1 is the most critical.", "anyOf": [{ "type": "integer", "minimum": 1, "maximum": 255 }, reference("var")] })
                }
                "tags" => names(),
                "checks" => json!({
                    "description": "The checks: `- kind: column` or `- kind: { option: value, ... }`.",
                    "anyOf": [{ "type": "array", "items": reference("check") }, { "type": "null" }]
                }),
                "parity" => json!({
                    "description": "Comparisons with another dataset (row counts, aggregates, a keyed row diff).",
                    "anyOf": [{ "type": "array", "items": reference("parity") }, reference("parity")]
                }),
                "breaker" => reference("breaker"),
                "staging" => string().described(
                    "Where the producing job writes; `sluice publish` promotes it to `path:`.",
                ),
                "keep_versions" => uint_in(1, 1000),
                "storage" => storage(),
                "version" => json!({
                    "description": "With `format: delta`: read the table as of this version (commit number). Not with `timestamp`.",
                    "type": "integer",
                    "minimum": 0
                }),
                "timestamp" => string().described(
                    "With `format: delta`: read the latest version committed at or before this instant (RFC 3339 with a zone, or a date). Not with `version`.",
                ),
                "delta_mode" => json!({
                    "description": "With `format: delta`: how `sluice publish` commits the staged data (default append).",
                    "enum": ["append", "overwrite"]
                }),
                _ => return None,
            })
        },
        &["path"],
    )
}

/// A `storage:` block: how to reach an object store (credentials come from the
/// cloud's standard chain, never from the config).
fn storage() -> Value {
    object(
        "`storage`",
        crate::StorageOptions::KEYS,
        |k| {
            Some(match k {
                "endpoint" => json!({ "type": "string", "pattern": "^https?://" }),
                "region" | "profile" => string(),
                "path_style" | "anonymous" | "allow_http" => boolean(),
                "timeout" => duration(),
                _ => return None,
            })
        },
        &[],
    )
    .described("How to reach the object store: `endpoint`, `region`, `path_style`, `anonymous`, `allow_http`, `timeout`, `profile`.")
}

fn breaker() -> Value {
    object(
        "`breaker`",
        keys::BREAKER_KEYS,
        |k| {
            Some(match k {
                "reset" => json!({ "enum": ["auto", "manual"] }),
                "trip_on" => severity(),
                "trip_after" | "close_after" => uint_in(1, 1000),
                _ => return None,
            })
        },
        &[],
    )
    .described("The circuit breaker: when it opens, and how it closes.")
}

fn parity() -> Value {
    let tolerance = object(
        "a tolerance",
        keys::TOLERANCE_KEYS,
        |_| Some(non_negative()),
        &[],
    );
    let aggregate = json!({
        "anyOf": [
            names(),
            object("an aggregate", keys::AGGREGATE_KEYS, |k| match k {
                "columns" | "column" => Some(names()),
                "tolerance" | "tolerance_pct" => Some(non_negative()),
                _ => None,
            }, &[])
        ]
    });
    object(
        "a parity check",
        keys::PARITY_KEYS,
        |k| {
            Some(match k {
                "against" => string().described("The dataset to compare with."),
                "name" => text(),
                "severity" => severity(),
                "where" | "against_where" => sql(),
                "samples" => samples(),
                "row_count" => json!({ "anyOf": [{ "type": ["boolean", "null"] }, tolerance] }),
                "sum" | "avg" | "min" | "max" | "count_distinct" => aggregate.clone(),
                "group_by" | "keys" => names(),
                "compare" => json!({
                    "anyOf": [
                        { "const": "all" },
                        names(),
                        { "type": "object", "additionalProperties": { "anyOf": [reference("compare_options"), { "type": "null" }] } }
                    ]
                }),
                "normalize" => {
                    json!({ "anyOf": [reference("compare_options"), { "type": "null" }] })
                }
                "column_map" => string_map(),
                "max_missing" | "max_extra" | "max_changed" | "max_duplicates" => uint(),
                _ => return None,
            })
        },
        &["against"],
    )
}

fn compare_options() -> Value {
    object(
        "compare options",
        keys::COMPARE_KEYS,
        |k| {
            Some(match k {
                "tolerance" => non_negative(),
                "trim" | "ignore_case" => boolean(),
                "precision" => {
                    json!({ "enum": ["s", "second", "seconds", "ms", "millisecond", "milliseconds", "us", "microsecond", "microseconds", "ns", "nanosecond", "nanoseconds"] })
                }
                _ => return None,
            })
        },
        &[],
    )
}

fn stage() -> Value {
    object(
        "a stage",
        keys::STAGE_KEYS,
        |k| {
            Some(match k {
                "inputs" | "outputs" => names(),
                "owner" | "description" => text(),
                "reconcile" => named_map(
                    "Reconciliations run with this stage.",
                    reference("reconcile"),
                ),
                "sql" => string()
                    .described("The stage's SQL: what it reads and writes, for the lineage."),
                "sql_file" => {
                    string().described("A file holding the stage's SQL, relative to this file.")
                }
                "dialect" => dialect(),
                _ => return None,
            })
        },
        &[],
    )
}

/// `dialect:` of a stage or of `lineage:`.
fn dialect() -> Value {
    json!({
        "description": "The SQL dialect of stage SQL (default generic).",
        "enum": crate::Dialect::NAMES,
    })
}

fn reconcile() -> Value {
    object(
        "a reconciliation",
        keys::RECONCILE_KEYS,
        |k| {
            Some(match k {
                "datasets" | "key" => names(),
                "measures" => json!({
                    "anyOf": [
                        names(),
                        { "type": "object", "additionalProperties": { "anyOf": [reference("compare_options"), { "type": "null" }] } }
                    ]
                }),
                "columns" => json!({ "type": "object", "additionalProperties": string_map() }),
                "where" => json!({ "type": "object", "additionalProperties": sql() }),
                "severity" => severity(),
                "samples" => samples(),
                "max_disagreements" | "max_missing" | "max_duplicates" => uint(),
                _ => return None,
            })
        },
        &["datasets", "key"],
    )
}

fn exposure() -> Value {
    object(
        "an exposure",
        keys::EXPOSURE_KEYS,
        |k| {
            Some(match k {
                "type" => json!({ "enum": EXPOSURE_TYPES }),
                "depends_on" => names(),
                "owner" | "description" => text(),
                "tier" => uint_in(1, 255),
                "tags" => names(),
                "url" => string(),
                _ => return None,
            })
        },
        &[],
    )
}

/// A list item under `checks:`: one branch per kind (so an editor completes each kind's
/// own keys), each kind's options in `definitions/kind.<name>`.
fn check_item(definitions: &mut Map<String, Value>) -> Value {
    let mut branches = vec![json!({
        "description": "A kind with no options (`- row_count`).",
        "enum": ["row_count"]
    })];
    for k in KINDS {
        let def = format!("kind.{}", k.name);
        definitions.insert(def.clone(), kind_body(k));
        branches.push(json!({
            "type": "object",
            "properties": { k.name: reference(&def) },
            "required": [k.name],
            "additionalProperties": false,
        }));
    }
    json!({
        "description": "A check: `- kind: column` or `- kind: { option: value, ... }`.",
        "anyOf": branches,
    })
}

/// What may follow `- <kind>:`: its shorthand (if it has one) or its options.
fn kind_body(k: &KindInfo) -> Value {
    let options = check_options(k);
    let mut forms = vec![options];
    if let Some(short) = shorthand(k.name) {
        forms.insert(0, short);
    }
    if k.name == "row_count" {
        forms.push(json!({ "type": "null" }));
    }
    json!({ "description": format!("`{}` check", k.name), "anyOf": forms })
}

/// The shorthand a kind takes instead of its options: `- not_null: [a, b]`,
/// `- rows_satisfy: "qty > 0"`, `- anomaly: row_count`.
fn shorthand(kind: &str) -> Option<Value> {
    Some(match kind {
        "not_null" | "unique" | "quantiles_ordered" => names(),
        "rows_satisfy" => sql(),
        "anomaly" => string(),
        _ => return None,
    })
}

/// A kind's options mapping: the keys every check takes, its own, its thresholds, and
/// `warn:`/`fail:` zones holding its thresholds.
fn check_options(k: &KindInfo) -> Value {
    let what = format!("a `{}` check", k.name);
    let mut keys: Vec<&str> = keys::COMMON_CHECK_KEYS.to_vec();
    keys.extend_from_slice(k.options);
    for t in k.thresholds.keys() {
        if !keys.contains(t) {
            keys.push(t);
        }
    }
    let thresholds = k.thresholds;
    let zone = if thresholds == ThresholdClass::Exact {
        json!(false)
    } else {
        object(
            &format!("a zone of {what}"),
            thresholds.keys(),
            |t| threshold(thresholds, t),
            &[],
        )
    };
    object(
        &what,
        &keys,
        |key| match key {
            "name" => Some(text().described("The check's name (default: kind(column)).")),
            "severity" => Some(severity()),
            "where" => Some(sql().described("Only rows matching this SQL condition are checked.")),
            "samples" => Some(samples()),
            "warn" | "fail" => Some(zone.clone()),
            "after" => Some(names().described("Checks of this dataset that must pass first.")),
            _ => {
                // A kind's own option of the same name as a threshold (`range`'s and
                // `length`'s `min`/`max` are bounds on values, not thresholds) wins.
                if k.options.contains(&key) {
                    option(k.name, key)
                } else {
                    threshold(thresholds, key)
                }
            }
        },
        &[],
    )
}

/// The type of a threshold key.
fn threshold(class: ThresholdClass, key: &str) -> Option<Value> {
    Some(match (class, key) {
        (_, "between" | "between_pct") => json!({
            "description": "[low, high]",
            "type": "array", "items": number(), "minItems": 2, "maxItems": 2
        }),
        (_, "max_invalid") => uint().described("At most this many failing rows."),
        (_, "max_invalid_pct") => json!({
            "description": "At most this percentage of rows failing (0 to 100).",
            "anyOf": [{ "type": "number", "minimum": 0, "maximum": 100 }, reference("var")]
        }),
        (_, "max_age") => duration(),
        (_, "min" | "max" | "equals" | "min_pct" | "max_pct" | "max_score") => number(),
        (ThresholdClass::Limits(keys), k) if keys.contains(&k) => number(),
        _ => return None,
    })
}

/// The type of a kind's own option.
fn option(kind: &str, key: &str) -> Option<Value> {
    Some(match (kind, key) {
        ("not_null" | "unique", "columns") => names(),
        ("unique", "nulls") => json!({ "enum": ["distinct", "equal"] }),
        ("accepted_values" | "forbidden_values", "values") => json!({
            "type": "array", "items": literal(), "minItems": 1
        }),
        ("range", "min" | "max") => {
            literal().described("A bound: a number, or a date or timestamp in quotes.")
        }
        ("range", "inclusive") => boolean(),
        ("matches", "regex") => string().described("A Rust regex; single-quote it in YAML."),
        ("format", "format") => json!({ "enum": TEXT_FORMATS }),
        ("length", "min" | "max") => uint(),
        ("schema", "columns") => json!({
            "description": "Required columns: a mapping of name to type (`any` for presence only), or a list of names.",
            "anyOf": [
                { "type": "object", "additionalProperties": column_type() },
                names()
            ]
        }),
        ("schema", "forbidden") => names(),
        ("schema", "allow_extra") => boolean(),
        ("rows_satisfy", "condition") => sql(),
        ("metric", "sql") => sql().described("A SQL aggregate, e.g. `avg(amount)`."),
        ("references", "dataset") => string().described("The dataset the column points at."),
        ("references", "key") => string(),
        ("change" | "anomaly", "metric") => string().described(
            "A check's name (`not_null(amount)`), `check.field`, or a dataset metric (`row_count`, `mean(amount)`).",
        ),
        ("change", "vs") => json!({
            "anyOf": [
                { "enum": ["previous", "same_weekday"] },
                object("`vs`", &["runs_ago"], |k| (k == "runs_ago").then(|| uint_in(1, 10_000)), &["runs_ago"])
            ]
        }),
        ("anomaly", "method") => json!({ "enum": ["mad", "zscore"] }),
        ("anomaly", "window") => json!({
            "description": "A number of runs (30) or a duration (8w).",
            "anyOf": [{ "type": "integer", "minimum": 2 }, { "type": "string" }]
        }),
        ("anomaly", "seasonality") => json!({ "enum": ["weekly", "none"] }),
        ("anomaly", "min_history") => uint_in(2, u32::MAX as u64),
        ("anomaly", "too_little_history") => json!({ "enum": ["pass", "warn"] }),
        ("distribution", "reference") => string().described("The reference dataset (or `dataset.column`)."),
        ("distribution", "bins") => uint(),
        ("distribution", "categorical") => boolean(),
        ("within_history" | "forecast_accuracy", "actuals") => string().described("The dataset of actuals."),
        ("within_history" | "not_constant" | "completeness", "series") => names(),
        ("within_history", "factor" | "q_low" | "q_high") => number(),
        ("change_vs_published" | "forecast_accuracy", "keys") => names(),
        ("forecast_accuracy", "season") => uint(),
        ("completeness", "series_from") => string().described("`dataset.column` holding every series."),
        ("completeness", "date") => string(),
        ("completeness", "frequency") => json!({
            "description": "`1d`, `1w`, `1mo`... or a step for integer grids.",
            "anyOf": [{ "type": "integer", "minimum": 1 }, { "type": "string" }]
        }),
        ("completeness", "start") => json!({ "type": ["integer", "string"] }),
        ("completeness", "horizon") => uint(),
        ("completeness", "keys") => json!({
            "description": "The long layout: each key column and the values it must cover.",
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    literal(),
                    { "type": "array", "items": literal(), "minItems": 1 },
                    object("a key", keys::KEY_SPEC_KEYS, |k| Some(match k {
                        "values" => json!({ "type": "array", "items": literal(), "minItems": 1 }),
                        "from" | "to" => json!({ "type": ["integer", "string"] }),
                        "start" => json!({ "type": ["integer", "string"] }),
                        "horizon" => uint(),
                        "frequency" => json!({ "anyOf": [{ "type": "integer", "minimum": 1 }, { "type": "string" }] }),
                        _ => return None,
                    }), &[])
                ]
            }
        }),
        ("completeness" | "quantiles_ordered", "by") => names(),
        ("completeness", "extra") => json!({ "enum": ["fail", "ignore"] }),
        ("quantiles_ordered", "columns") => names(),
        ("quantiles_ordered", "level" | "value") => string(),
        ("quantiles_ordered", "tolerance") => non_negative(),
        ("metric", "group_by") => names(),
        // Column names.
        (_, "column" | "reference_column" | "actual_column" | "point" | "lower" | "upper") => {
            string()
        }
        _ => return None,
    })
}

// --- building blocks --------------------------------------------------------------------

/// A closed object with `keys`, each typed by `ty`; panics naming the key when `ty` has no
/// type for it (a key the decoder accepts must be in the schema).
fn object(
    what: &str,
    keys: &[&str],
    ty: impl Fn(&str) -> Option<Value>,
    required: &[&str],
) -> Value {
    let mut v = json!({
        "type": "object",
        "properties": properties(what, keys, ty),
        "additionalProperties": false,
    });
    if !required.is_empty() {
        v["required"] = json!(required);
    }
    v
}

fn properties(what: &str, keys: &[&str], ty: impl Fn(&str) -> Option<Value>) -> Value {
    let mut props = Map::new();
    for key in keys {
        let schema = ty(key).unwrap_or_else(|| {
            panic!("the JSON Schema has no type for `{key}` of {what}: add it in sluice-spec/src/schema.rs")
        });
        props.insert((*key).to_string(), schema);
    }
    Value::Object(props)
}

fn reference(def: &str) -> Value {
    json!({ "$ref": format!("#/definitions/{def}") })
}

fn named_map(description: &str, item: Value) -> Value {
    json!({
        "description": description,
        "type": "object",
        "additionalProperties": item,
    })
}

fn string() -> Value {
    json!({ "type": "string", "minLength": 1 })
}

/// A string, or a number or boolean written without quotes (`owner: 42`).
fn text() -> Value {
    json!({ "type": ["string", "number", "boolean"] })
}

/// A SQL expression.
fn sql() -> Value {
    string()
}

/// A name or a list of names.
fn names() -> Value {
    reference("names")
}

fn names_def() -> Value {
    json!({
        "anyOf": [
            { "type": "string", "minLength": 1 },
            { "type": "array", "items": { "type": "string", "minLength": 1 }, "minItems": 1 }
        ]
    })
}

fn string_map() -> Value {
    json!({ "type": "object", "additionalProperties": { "type": "string", "minLength": 1 } })
}

fn number() -> Value {
    reference("number")
}

fn number_def() -> Value {
    json!({ "anyOf": [{ "type": "number" }, reference("var")] })
}

fn non_negative() -> Value {
    reference("non_negative")
}

fn non_negative_def() -> Value {
    json!({ "anyOf": [{ "type": "number", "minimum": 0 }, reference("var")] })
}

fn uint() -> Value {
    reference("uint")
}

fn uint_def() -> Value {
    json!({ "anyOf": [{ "type": "integer", "minimum": 0 }, reference("var")] })
}

fn uint_in(lo: u64, hi: u64) -> Value {
    json!({ "anyOf": [{ "type": "integer", "minimum": lo, "maximum": hi }, reference("var")] })
}

fn boolean() -> Value {
    reference("boolean")
}

fn boolean_def() -> Value {
    json!({ "anyOf": [{ "type": "boolean" }, reference("var")] })
}

/// A value: a number, a string or a boolean.
fn literal() -> Value {
    json!({ "type": ["string", "number", "boolean"] })
}

/// `6h`, `30m`, `400d`, or seconds.
fn duration() -> Value {
    reference("duration")
}

fn duration_def() -> Value {
    json!({
        "description": "A duration: a number and a unit (s, m, h, d, w), e.g. `6h`; or seconds.",
        "anyOf": [{ "type": "string", "pattern": "^\\s*[0-9]" }, { "type": "integer", "minimum": 0 }, reference("var")]
    })
}

fn severity() -> Value {
    reference("severity")
}

fn severity_def() -> Value {
    json!({
        "description": "`error` fails the run (exit 1); `warn` is reported and the run passes.",
        "enum": ["error", "warn", "warning"]
    })
}

fn samples() -> Value {
    uint_in(0, 10_000).described("Failing-row examples kept per failed check.")
}

fn column_type() -> Value {
    reference("column_type")
}

fn column_type_def() -> Value {
    json!({
        "anyOf": [
            { "enum": COLUMN_TYPES },
            { "type": "string", "pattern": "^decimal\\(\\s*[0-9]+\\s*,\\s*[0-9]+\\s*\\)$" }
        ]
    })
}

/// Adds a `description` to a schema.
trait Described {
    fn described(self, text: &str) -> Value;
}

impl Described for Value {
    fn described(mut self, text: &str) -> Value {
        self["description"] = json!(text);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_decoder_accepts_has_a_type() {
        // Building the schema panics on a key without a type.
        let s = json_schema();
        for k in KINDS {
            let props = &s["definitions"][format!("kind.{}", k.name)]["anyOf"];
            let options = props
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["type"] == "object")
                .unwrap_or_else(|| panic!("{} has no options form", k.name));
            for key in k.options.iter().chain(k.thresholds.keys()) {
                assert!(
                    options["properties"].get(*key).is_some(),
                    "{}: {key}",
                    k.name
                );
            }
        }
    }

    #[test]
    fn range_completes_min_and_max_as_bounds() {
        let s = json_schema();
        let range = &s["definitions"]["kind.range"]["anyOf"][0]["properties"];
        assert!(range["min"]["type"].is_array(), "a bound, not a threshold");
        assert!(range.get("max_invalid").is_some());
        assert!(range.get("regex").is_none());
    }
}
