//! The loopback S3 API server of the object-store tests (`.ci/s3.sh`: moto with request
//! signing enforced): uploads, listings and deletes through the same `object_store` crate
//! sluice uses, with the test user's keys.
//!
//! `SLUICE_TEST_S3` is the endpoint and `SLUICE_TEST_S3_CREDENTIALS` the AWS credentials
//! file (profile `sluice-test`); unset, the tests skip, saying so, unless
//! `SLUICE_REQUIRE_LAKE=1` (CI), where that is a failure.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// The test server and a bucket on it.
pub struct S3 {
    /// `http://127.0.0.1:54330`.
    pub endpoint: String,
    /// The shared-credentials file holding profile `sluice-test`.
    pub credentials: PathBuf,
    bucket: String,
    store: Arc<dyn ObjectStore>,
    rt: tokio::runtime::Runtime,
}

/// The server, or `None` (skipping `test`) when it is not configured.
pub fn server(test: &str) -> Option<S3> {
    server_bucket(test, "sluice-test")
}

/// The server with `bucket` (created by `.ci/s3.sh`).
pub fn server_bucket(test: &str, bucket: &str) -> Option<S3> {
    let endpoint = std::env::var("SLUICE_TEST_S3")
        .ok()
        .filter(|e| !e.is_empty());
    let credentials = std::env::var("SLUICE_TEST_S3_CREDENTIALS").ok();
    let (Some(endpoint), Some(credentials)) = (endpoint, credentials) else {
        assert!(
            std::env::var("SLUICE_REQUIRE_LAKE").as_deref() != Ok("1"),
            "SLUICE_REQUIRE_LAKE=1 but SLUICE_TEST_S3 / SLUICE_TEST_S3_CREDENTIALS are not set: start the server with .ci/s3.sh"
        );
        eprintln!(
            "skipping {test}: set SLUICE_TEST_S3 and SLUICE_TEST_S3_CREDENTIALS from .ci/s3.sh to run it"
        );
        return None;
    };
    let text = std::fs::read_to_string(&credentials).unwrap();
    let value = |k: &str| {
        text.lines()
            .find_map(|l| l.split_once('=').filter(|(a, _)| a.trim() == k))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| panic!("{k} in {credentials}"))
    };
    let store = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_endpoint(&endpoint)
        .with_region("us-east-1")
        .with_allow_http(true)
        .with_access_key_id(value("aws_access_key_id"))
        .with_secret_access_key(value("aws_secret_access_key"))
        .build()
        .unwrap();
    Some(S3 {
        endpoint,
        credentials: PathBuf::from(credentials),
        bucket: bucket.to_string(),
        store: Arc::new(store),
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    })
}

impl S3 {
    /// A fresh prefix for one test: `s3://<bucket>/<test>-<pid>-<nanos>/`.
    pub fn prefix(&self, test: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!(
            "s3://{}/{test}-{}-{nanos}/",
            self.bucket,
            std::process::id()
        )
    }

    /// The `storage:` block of a config reaching this server (profile credentials).
    pub fn storage_yaml(&self) -> String {
        format!(
            "storage:\n  s3://{}/:\n    endpoint: {}\n    region: us-east-1\n    profile: sluice-test\n",
            self.bucket, self.endpoint
        )
    }

    /// The environment sluice needs to find the credentials.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![(
            "AWS_SHARED_CREDENTIALS_FILE",
            self.credentials.display().to_string(),
        )]
    }

    fn key(&self, url: &str) -> Key {
        let rest = url
            .strip_prefix(&format!("s3://{}/", self.bucket))
            .unwrap_or_else(|| panic!("{url} is not in bucket {}", self.bucket));
        Key::from(rest)
    }

    /// Uploads a file, or a folder's files (recursively), to `url`.
    pub fn upload(&self, local: &Path, url: &str) {
        if local.is_dir() {
            for entry in std::fs::read_dir(local).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().to_string_lossy().to_string();
                self.upload(
                    &entry.path(),
                    &format!("{}/{name}", url.trim_end_matches('/')),
                );
            }
        } else {
            self.put(url, std::fs::read(local).unwrap());
        }
    }

    /// Writes one object.
    pub fn put(&self, url: &str, bytes: Vec<u8>) {
        let key = self.key(url);
        self.rt
            .block_on(self.store.put(&key, PutPayload::from(bytes)))
            .unwrap();
    }

    /// One object's bytes, if it exists.
    pub fn get(&self, url: &str) -> Option<Vec<u8>> {
        let key = self.key(url);
        self.rt.block_on(async {
            match self.store.get(&key).await {
                Ok(r) => Some(r.bytes().await.unwrap().to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("{url}: {e}"),
            }
        })
    }

    /// The URLs of every object under `url`, sorted.
    pub fn list(&self, url: &str) -> Vec<String> {
        let key = self.key(url);
        let mut out: Vec<String> = self.rt.block_on(async {
            self.store
                .list(Some(&key))
                .map_ok(|m| format!("s3://{}/{}", self.bucket, m.location))
                .try_collect()
                .await
                .unwrap()
        });
        out.sort();
        out
    }

    /// Deletes one object.
    pub fn delete(&self, url: &str) {
        let key = self.key(url);
        self.rt.block_on(self.store.delete(&key)).unwrap();
    }
}
