//! Object stores on the scheduler and the executors: built on first use for each bucket,
//! with the same builder the client uses ([`crate::objects::build`]): the cloud's
//! credential chain of *this* machine (environment, profile files, instance roles), and
//! the `storage:` settings of the sluice.yaml the process was started with, if any.

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::object_store::ObjectStore;
use sluice_spec::{Config, StorageOptions, StorageRules};
use url::Url;

use crate::objects::{self, Remote};

/// Local files as DataFusion has them, and remote stores made on demand.
#[derive(Debug)]
pub struct LazyStores {
    registered: DefaultObjectStoreRegistry,
    config: Option<Arc<Config>>,
    made: std::sync::Mutex<()>,
}

impl LazyStores {
    /// With the `storage:` settings of `config`, when given.
    pub fn new(config: Option<Arc<Config>>) -> LazyStores {
        LazyStores {
            registered: DefaultObjectStoreRegistry::new(),
            config,
            made: std::sync::Mutex::new(()),
        }
    }

    /// The settings for `remote`: those of the config's datasets in the same bucket (the
    /// config resolves every URL of a bucket to the same settings), else the top-level
    /// `storage:` blocks alone (every dataset carries them), else none.
    fn options(&self, remote: &Remote) -> StorageOptions {
        let Some(config) = &self.config else {
            return StorageOptions::default();
        };
        let url = remote.url.as_str();
        let in_bucket = config.datasets.iter().find(|d| {
            d.url()
                .and_then(|u| Remote::parse(u).ok())
                .is_some_and(|r| r.root == remote.root)
        });
        match (in_bucket, config.datasets.first()) {
            (Some(d), _) => d.storage.for_url(url),
            (None, Some(d)) => StorageRules {
                prefixes: d.storage.prefixes.clone(),
                own: None,
            }
            .for_url(url),
            (None, None) => StorageOptions::default(),
        }
    }
}

impl ObjectStoreRegistry for LazyStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.registered.register_store(url, store)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.registered.get_store(url) {
            return Ok(store);
        }
        let remote = Remote::parse(url.as_str()).map_err(DataFusionError::Configuration)?;
        let _one_at_a_time = self.made.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(store) = self.registered.get_store(url) {
            return Ok(store);
        }
        let store = objects::build(&remote, &self.options(&remote))
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        self.registered.register_store(&remote.root, store.clone());
        Ok(store)
    }
}
