//! The server's state and its life: bind, serve, reload the config when it changes (or on
//! SIGHUP), stop on SIGTERM after the requests in flight (and the background runs) finish.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sluice_app::{Workspace, WorkspaceOptions};
use tokio::sync::Semaphore;

use crate::auth::Token;

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where to listen (loopback by default).
    pub addr: SocketAddr,
    /// Allow a non-loopback address (needs a token).
    pub allow_remote: bool,
    /// The config file.
    pub config: PathBuf,
    /// How to open its workspace (vars, state store, actor).
    pub workspace: WorkspaceOptions,
    /// Background checks (`POST /api/check`) that may run at once.
    pub max_runs: usize,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How often the config and the lineage files are looked at for changes.
    pub reload_every: Duration,
}

impl ServeOptions {
    /// The defaults for a config: loopback port 8080, two background runs, 64 KiB bodies,
    /// a look at the config every two seconds.
    pub fn new(config: PathBuf) -> ServeOptions {
        ServeOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            allow_remote: false,
            config,
            workspace: WorkspaceOptions::default(),
            max_runs: 2,
            body_limit: 64 * 1024,
            reload_every: Duration::from_secs(2),
        }
    }
}

/// What stops the server from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The config (or its state store setting) cannot be used.
    #[error(transparent)]
    App(#[from] sluice_app::Error),
    /// A non-loopback address without `--allow-remote`.
    #[error(
        "{addr} is not a loopback address: the API would be reachable from other machines. Pass --allow-remote (and configure a token: SLUICE_TOKEN, or the variable `serve: {{ token_env: NAME }}` names) to serve it there, or listen on 127.0.0.1"
    )]
    RemoteRefused {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// A non-loopback address without a token.
    #[error(
        "--allow-remote needs a token: set SLUICE_TOKEN (or the variable `serve: {{ token_env: NAME }}` names) so that only its holders can trip, reset or run checks"
    )]
    RemoteWithoutToken,
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// A background check's place in the queue.
#[derive(Clone, Debug, Serialize)]
pub struct Pending {
    /// Its run id.
    pub run_id: String,
    /// `queued`, `running`, or `error` (it could not start; `message` says why).
    pub status: &'static str,
    /// What it checks: the datasets.
    pub datasets: Vec<String>,
    /// Or the stage.
    pub stage: Option<String>,
    /// When it was asked for.
    pub requested_at: String,
    /// Who asked.
    pub by: String,
    /// Why it failed to run, when it did.
    pub message: Option<String>,
}

/// The state every request shares.
pub struct AppState {
    ws: RwLock<Arc<Workspace>>,
    opts: ServeOptions,
    token: RwLock<Option<Token>>,
    /// Background checks not yet recorded, by run id.
    pub pending: Mutex<HashMap<String, Pending>>,
    /// Bounds the background checks running at once.
    pub permits: Arc<Semaphore>,
    /// The last reload's error (the previous config stays in use).
    pub reload_error: Mutex<Option<String>>,
    watched: Mutex<Vec<(PathBuf, Option<SystemTime>)>>,
    /// Background tasks still running (waited for at shutdown).
    pub tasks: tasks::Tracker,
    started: SystemTime,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.opts.config)
            .finish_non_exhaustive()
    }
}

/// The shared state, as handlers receive it.
pub type Shared = Arc<AppState>;

impl AppState {
    /// Opens the workspace of `opts.config` and reads the token.
    pub fn new(opts: ServeOptions) -> Result<AppState, ServeError> {
        let ws = Workspace::open(&opts.config, opts.workspace.clone())?;
        let token = Token::configured(ws.config());
        let watched = watch_list(&ws);
        Ok(AppState {
            ws: RwLock::new(Arc::new(ws)),
            permits: Arc::new(Semaphore::new(opts.max_runs.max(1))),
            opts,
            token: RwLock::new(token),
            pending: Mutex::new(HashMap::new()),
            reload_error: Mutex::new(None),
            watched: Mutex::new(watched),
            tasks: tasks::Tracker::default(),
            started: SystemTime::now(),
        })
    }

    /// The workspace now (a reload swaps it; a request keeps the one it started with).
    pub fn workspace(&self) -> Arc<Workspace> {
        Arc::clone(&self.ws.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The token mutating calls need, if one is configured.
    pub fn token(&self) -> Option<Token> {
        self.token.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The options the server runs with.
    pub fn options(&self) -> &ServeOptions {
        &self.opts
    }

    /// Seconds since the server started.
    pub fn uptime(&self) -> u64 {
        self.started.elapsed().map(|d| d.as_secs()).unwrap_or(0)
    }

    /// Reloads the config (and so the lineage graph and the token). On an error the
    /// previous config stays in use and the error is kept for `/healthz`.
    pub fn reload(&self) -> Result<(), String> {
        let _span = tracing::info_span!("reload", config = %self.opts.config.display()).entered();
        match Workspace::open(&self.opts.config, self.opts.workspace.clone()) {
            Ok(ws) => {
                *self.watched.lock().unwrap_or_else(|p| p.into_inner()) = watch_list(&ws);
                *self.token.write().unwrap_or_else(|p| p.into_inner()) =
                    Token::configured(ws.config());
                *self.ws.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ws);
                *self.reload_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                tracing::info!("config reloaded");
                Ok(())
            }
            Err(e) => {
                let message = e.to_string();
                tracing::error!(error = %message, "config not reloaded; the previous one stays in use");
                *self.reload_error.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(message.clone());
                Err(message)
            }
        }
    }

    /// Whether the config or a lineage file it names changed since they were last read.
    fn changed(&self) -> bool {
        let mut watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
        let mut changed = false;
        for (path, seen) in watched.iter_mut() {
            let now = modified(path);
            if now != *seen {
                *seen = now;
                changed = true;
            }
        }
        changed
    }
}

/// The files whose change reloads the workspace: the config and the lineage files it names.
fn watch_list(ws: &Workspace) -> Vec<(PathBuf, Option<SystemTime>)> {
    let config = ws.config();
    let mut paths = vec![config.file.path().to_path_buf()];
    paths.extend(
        config
            .lineage
            .dbt
            .iter()
            .chain(&config.lineage.openlineage)
            .cloned(),
    );
    paths
        .into_iter()
        .map(|p| (p.clone(), modified(&p)))
        .collect()
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Serves until SIGTERM or Ctrl-C; then stops accepting, lets the requests in flight and
/// the running background checks finish, and returns.
pub async fn serve(opts: ServeOptions) -> Result<(), ServeError> {
    let addr = opts.addr;
    let state = Arc::new(AppState::new(opts)?);
    if !addr.ip().is_loopback() {
        if !state.opts.allow_remote {
            return Err(ServeError::RemoteRefused { addr });
        }
        if state.token().is_none() {
            return Err(ServeError::RemoteWithoutToken);
        }
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, config = %state.opts.config.display(), "serving");
    // The one line a supervisor (or a test) waits for.
    eprintln!("sluice serve: listening on http://{bound}");
    tokio::spawn(watch(Arc::clone(&state)));
    let app = crate::routes::router(Arc::clone(&state));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopping: waiting for background checks");
    state.tasks.wait().await;
    Ok(())
}

/// Reloads on SIGHUP and when a watched file changes.
async fn watch(state: Shared) {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(state.opts.reload_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let forced = tokio::select! {
            _ = tick.tick() => false,
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
        };
        let s = Arc::clone(&state);
        let _ = tokio::task::spawn_blocking(move || {
            if forced || s.changed() {
                let _ = s.reload();
            }
        })
        .await;
    }
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = term => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    tracing::info!("shutdown signal: finishing the requests in flight");
}

/// A tiny task tracker: counts tasks and wakes a waiter when none are left.
pub mod tasks {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Notify;

    /// Counts running tasks.
    #[derive(Debug, Default, Clone)]
    pub struct Tracker {
        inner: Arc<(AtomicUsize, Notify)>,
    }

    /// Held by a running task; dropping it marks the task done.
    #[derive(Debug)]
    pub struct Guard(Arc<(AtomicUsize, Notify)>);

    impl Tracker {
        /// A task starts.
        pub fn enter(&self) -> Guard {
            self.inner.0.fetch_add(1, Ordering::SeqCst);
            Guard(Arc::clone(&self.inner))
        }

        /// Tasks running now.
        pub fn running(&self) -> usize {
            self.inner.0.load(Ordering::SeqCst)
        }

        /// Waits until no task runs.
        pub async fn wait(&self) {
            loop {
                let notified = self.inner.1.notified();
                if self.running() == 0 {
                    return;
                }
                notified.await;
            }
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            if self.0.0.fetch_sub(1, Ordering::SeqCst) == 1 {
                self.0.1.notify_waiters();
            }
        }
    }
}
