//! Object stores on the scheduler and the executors: built on first use for each bucket,
//! with the same builder the client uses ([`crate::objects::build`]): the cloud's
//! credential chain of *this* machine (environment, profile files, instance roles), and
//! the `storage:` settings of the sluice.yaml the process was started with, if any.

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::object_store::ObjectStore;
use sluice_spec::{Config, StorageOptions};
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

    /// The settings for `url`: those of a dataset of the config in the same bucket (the
    /// top-level `storage:` prefixes apply to every dataset), else none.
    fn options(&self, remote: &Remote) -> StorageOptions {
        let Some(config) = &self.config else {
            return StorageOptions::default();
        };
        let url = remote.url.as_str();
        config
            .datasets
            .iter()
            .find(|d| {
                d.url()
                    .and_then(|u| Remote::parse(u).ok())
                    .is_some_and(|r| r.root == remote.root)
            })
            .or_else(|| config.datasets.first())
            .map(|d| d.storage.for_url(url))
            .unwrap_or_default()
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
