//! Input straight from object stores and HTTP (feature `remote`):
//! `s3://bucket/key`, `gs://bucket/key` and `http(s)://host/path`, for
//! netCDF (classic and netCDF-4/HDF5, read by byte ranges: only the
//! metadata and the chunks a frame needs) and Zarr v2/v3 stores.
//!
//! Credentials and endpoints come from the usual environment: for S3
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` and
//! `AWS_ENDPOINT_URL` (an S3-compatible store; `http://` endpoints are
//! allowed), requests unsigned (anonymous, as for public buckets) when no
//! key is set; for GCS `GOOGLE_SERVICE_ACCOUNT` and the like, anonymous
//! without. Requests are retried with backoff on 5xx and timeouts
//! ([`MAX_RETRIES`]); a 403, a 404 or a host that does not resolve is an
//! error naming the URL. At most [`CACHE_BLOCKS`] blocks of
//! [`BLOCK_BYTES`] are kept per netCDF file.

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use pst_core::{Error, Result};

/// Bytes of one block read from a remote netCDF file: metadata reads are
/// rounded up to it, so a file's header takes a few requests, not hundreds.
pub const BLOCK_BYTES: usize = 1 << 20;

/// Blocks kept per remote netCDF file (64 MiB at most).
pub const CACHE_BLOCKS: usize = 64;

/// Retries of a failed request (5xx, timeouts, dropped connections), with
/// exponential backoff.
pub const MAX_RETRIES: usize = 4;

/// Requests in flight at once to one remote file or Zarr store; more wait
/// their turn. Reading threads each read one frame at a time, so a run
/// holds at most this many requests per file its threads are reading.
pub const MAX_CONCURRENT_REQUESTS: usize = 16;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Bytes fetched from remote stores by this process.
static FETCHED: AtomicU64 = AtomicU64::new(0);

/// [`crate::is_url`] of a path.
pub(crate) fn is_url_path(path: &Path) -> bool {
    path.to_str().is_some_and(crate::is_url)
}

/// The bytes this process has fetched from remote stores so far.
pub fn remote_bytes_fetched() -> u64 {
    FETCHED.load(Ordering::Relaxed)
}

/// The runtime remote requests run on, shared by every reader.
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("pst-remote")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Unsupported(format!("cannot start the runtime for remote input: {e}")))
}

/// Runs `future` to its end on the shared runtime.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    Ok(runtime()?.block_on(future))
}

/// A remote object or prefix: the store and the path within it.
#[derive(Clone)]
pub(crate) struct Remote {
    pub(crate) url: String,
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) path: ObjectPath,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// A store that keeps at most [`MAX_CONCURRENT_REQUESTS`] requests in
/// flight.
fn limited(store: impl ObjectStore) -> Arc<dyn ObjectStore> {
    Arc::new(object_store::limit::LimitStore::new(store, MAX_CONCURRENT_REQUESTS))
}

impl Remote {
    /// The store and path `url` names, configured from the environment.
    pub(crate) fn open(url: &str) -> Result<Remote> {
        let bad = |why: String| Error::InvalidArgument(format!("{url}: {why}"));
        let parsed = url::Url::parse(url).map_err(|e| bad(format!("not a URL ({e})")))?;
        let host = parsed.host_str().ok_or_else(|| bad("no bucket or host".into()))?.to_string();
        if parsed.query().is_some() {
            return Err(bad(
                "a URL with a query (`?…`, e.g. a presigned link) is not read: give the object's plain URL, with \
                 credentials in the environment"
                    .into(),
            ));
        }
        let key = parsed.path().trim_matches('/').to_string();
        let client = ClientOptions::new().with_timeout(REQUEST_TIMEOUT).with_connect_timeout(Duration::from_secs(20));
        let retry =
            RetryConfig { max_retries: MAX_RETRIES, retry_timeout: Duration::from_secs(120), ..RetryConfig::default() };
        let store: Arc<dyn ObjectStore> = match parsed.scheme() {
            "s3" | "s3a" => {
                let mut builder = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(&host)
                    .with_client_options(client)
                    .with_retry(retry);
                let endpoint = std::env::var("AWS_ENDPOINT_URL").or_else(|_| std::env::var("AWS_ENDPOINT"));
                if endpoint.as_deref().is_ok_and(|e| e.starts_with("http://")) {
                    builder = builder.with_allow_http(true);
                }
                if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
                    builder = builder.with_region("us-east-1");
                }
                if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                    builder = builder.with_skip_signature(true);
                }
                limited(builder.build().map_err(|e| bad(e.to_string()))?)
            }
            "gs" | "gcs" => {
                let mut builder = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(&host)
                    .with_client_options(client)
                    .with_retry(retry);
                let credentials =
                    ["GOOGLE_SERVICE_ACCOUNT", "GOOGLE_SERVICE_ACCOUNT_PATH", "GOOGLE_SERVICE_ACCOUNT_KEY"];
                if credentials.iter().all(|v| std::env::var_os(v).is_none()) {
                    builder = builder.with_skip_signature(true);
                }
                limited(builder.build().map_err(|e| bad(e.to_string()))?)
            }
            "http" | "https" => {
                let base = format!("{}://{}", parsed.scheme(), host_and_port(&parsed));
                limited(
                    object_store::http::HttpBuilder::new()
                        .with_url(base)
                        .with_client_options(client.with_allow_http(true))
                        .with_retry(retry)
                        .build()
                        .map_err(|e| bad(e.to_string()))?,
                )
            }
            other => return Err(bad(format!("`{other}://` is not a remote store pst reads (s3, gs, http, https)"))),
        };
        let path = ObjectPath::parse(&key).map_err(|e| bad(e.to_string()))?;
        Ok(Remote { url: url.trim_end_matches('/').to_string(), store, path })
    }

    /// The object `name` under this prefix (sharing this store's requests
    /// and their limit).
    pub(crate) fn child(&self, name: &str) -> Remote {
        let path = name.split('/').filter(|p| !p.is_empty()).fold(self.path.clone(), |p, part| p.join(part));
        Remote { url: format!("{}/{name}", self.url), store: Arc::clone(&self.store), path }
    }

    /// The error of a request, naming the URL.
    pub(crate) fn error(&self, error: &object_store::Error) -> Error {
        let kind = match error {
            object_store::Error::NotFound { .. } => std::io::ErrorKind::NotFound,
            object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
                std::io::ErrorKind::PermissionDenied
            }
            _ => std::io::ErrorKind::Other,
        };
        let what = match kind {
            std::io::ErrorKind::NotFound => "not found".to_string(),
            std::io::ErrorKind::PermissionDenied => format!("access denied ({error})"),
            _ => error.to_string(),
        };
        Error::Io(std::io::Error::new(kind, format!("{}: {what}", self.url)))
    }

    /// The object's size in bytes.
    pub(crate) fn len(&self) -> Result<u64> {
        let meta = block_on(self.store.head(&self.path))?.map_err(|e| self.error(&e))?;
        Ok(meta.size)
    }

    /// The bytes `range` of the object.
    pub(crate) fn read(&self, range: Range<u64>) -> Result<Vec<u8>> {
        let bytes = block_on(self.store.get_range(&self.path, range))?.map_err(|e| self.error(&e))?;
        FETCHED.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes.to_vec())
    }

    /// The whole object, or `None` when there is none.
    pub(crate) fn read_all(&self) -> Result<Option<Vec<u8>>> {
        let result = block_on(async { self.store.get(&self.path).await?.bytes().await })?;
        match result {
            Ok(bytes) => {
                FETCHED.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                Ok(Some(bytes.to_vec()))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(&e)),
        }
    }

    /// The names of the prefixes directly under this one (a Zarr store's
    /// arrays), where the store can list (S3, GCS; not plain HTTP).
    pub(crate) fn list_folders(&self) -> Result<Vec<String>> {
        let listed = block_on(self.store.list_with_delimiter(Some(&self.path)))?.map_err(|e| self.error(&e))?;
        let mut names: Vec<String> =
            listed.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect();
        names.sort();
        Ok(names)
    }
}

/// `host[:port]` of a URL, as written.
fn host_and_port(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => String::new(),
    }
}

/// A remote netCDF file as random-access storage: byte ranges fetched as
/// read, through a cache of [`CACHE_BLOCKS`] blocks of [`BLOCK_BYTES`].
#[cfg(feature = "netcdf")]
pub(crate) fn netcdf_storage(url: &str) -> Result<hdf5_reader::storage::DynStorage> {
    let remote = Remote::open(url)?;
    let len = remote.len()?;
    let reader = remote.clone();
    let ranges = hdf5_reader::storage::RangeRequestStorage::new(len, move |offset, bytes| {
        reader
            .read(offset..offset + bytes as u64)
            .map_err(|e| hdf5_reader::error::Error::Io(std::io::Error::other(e.to_string())))
    });
    Ok(Arc::new(hdf5_reader::storage::BlockCacheStorage::new(Arc::new(ranges), BLOCK_BYTES, CACHE_BLOCKS)))
}

/// A remote Zarr store for zarrs: requests run on the shared runtime.
#[cfg(feature = "zarr")]
pub(crate) fn zarr_store(remote: &Remote) -> Result<Arc<dyn zarrs::storage::ReadableStorageTraits>> {
    use zarrs::storage::storage_adapter::async_to_sync::{AsyncToSyncBlockOn, AsyncToSyncStorageAdapter};

    /// zarrs' requests, run to their end on the shared runtime.
    struct OnRuntime(&'static tokio::runtime::Runtime);

    impl AsyncToSyncBlockOn for OnRuntime {
        fn block_on<F: core::future::Future>(&self, future: F) -> F::Output {
            self.0.block_on(future)
        }
    }

    let prefixed = object_store::prefix::PrefixStore::new(Arc::clone(&remote.store), remote.path.clone());
    let store = Arc::new(zarrs_object_store::AsyncObjectStore::new(prefixed));
    Ok(Arc::new(Counted(AsyncToSyncStorageAdapter::new(store, OnRuntime(runtime()?)))))
}

/// A store whose reads add to the bytes fetched ([`remote_bytes_fetched`]).
#[cfg(feature = "zarr")]
struct Counted<S>(S);

#[cfg(feature = "zarr")]
impl<S: zarrs::storage::ReadableStorageTraits> zarrs::storage::ReadableStorageTraits for Counted<S> {
    fn get_partial_many<'a>(
        &'a self,
        key: &zarrs::storage::StoreKey,
        byte_ranges: zarrs::storage::byte_range::ByteRangeIterator<'a>,
    ) -> std::result::Result<zarrs::storage::MaybeBytesIterator<'a>, zarrs::storage::StorageError> {
        Ok(self.0.get_partial_many(key, byte_ranges)?.map(|parts| {
            Box::new(parts.inspect(|part| {
                if let Ok(bytes) = part {
                    FETCHED.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                }
            })) as _
        }))
    }

    fn size_key(
        &self,
        key: &zarrs::storage::StoreKey,
    ) -> std::result::Result<Option<u64>, zarrs::storage::StorageError> {
        self.0.size_key(key)
    }

    fn supports_get_partial(&self) -> bool {
        self.0.supports_get_partial()
    }
}
