//! The crate's error type.

use std::fmt;
use std::path::PathBuf;

use crate::ElementType;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The status codes a plugin attaches to its errors (`PJRT_Error_Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Not an error (never reported inside an [`Error`]).
    Ok,
    /// The operation was cancelled.
    Cancelled,
    /// An error with no better code.
    Unknown,
    /// The caller passed something the plugin refused.
    InvalidArgument,
    /// A deadline passed first.
    DeadlineExceeded,
    /// Something named does not exist.
    NotFound,
    /// Something being created exists already.
    AlreadyExists,
    /// The caller may not do this.
    PermissionDenied,
    /// Out of memory or another resource.
    ResourceExhausted,
    /// The system is not in a state where this can run.
    FailedPrecondition,
    /// The operation was aborted.
    Aborted,
    /// A value is past its valid range.
    OutOfRange,
    /// The plugin does not implement this.
    Unimplemented,
    /// An internal invariant of the plugin broke.
    Internal,
    /// The service is not available now.
    Unavailable,
    /// Data was lost or corrupted.
    DataLoss,
    /// The caller is not authenticated.
    Unauthenticated,
}

impl ErrorCode {
    /// Every code, in `PJRT_Error_Code` order (the index is the raw value).
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::Ok,
        ErrorCode::Cancelled,
        ErrorCode::Unknown,
        ErrorCode::InvalidArgument,
        ErrorCode::DeadlineExceeded,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::PermissionDenied,
        ErrorCode::ResourceExhausted,
        ErrorCode::FailedPrecondition,
        ErrorCode::Aborted,
        ErrorCode::OutOfRange,
        ErrorCode::Unimplemented,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::DataLoss,
        ErrorCode::Unauthenticated,
    ];

    /// The code for a raw `PJRT_Error_Code` value (unknown values become `Unknown`).
    pub fn from_raw(raw: i32) -> ErrorCode {
        usize::try_from(raw)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
            .unwrap_or(ErrorCode::Unknown)
    }

    /// The raw `PJRT_Error_Code` value.
    pub fn to_raw(self) -> i32 {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(2) as i32
    }
}

// Codes order by their raw `PJRT_Error_Code` value (the call log sorts outcomes by it).
impl PartialOrd for ErrorCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ErrorCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_raw().cmp(&other.to_raw())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorCode::Ok => "OK",
            ErrorCode::Cancelled => "CANCELLED",
            ErrorCode::Unknown => "UNKNOWN",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::DeadlineExceeded => "DEADLINE_EXCEEDED",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::AlreadyExists => "ALREADY_EXISTS",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::ResourceExhausted => "RESOURCE_EXHAUSTED",
            ErrorCode::FailedPrecondition => "FAILED_PRECONDITION",
            ErrorCode::Aborted => "ABORTED",
            ErrorCode::OutOfRange => "OUT_OF_RANGE",
            ErrorCode::Unimplemented => "UNIMPLEMENTED",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::DataLoss => "DATA_LOSS",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
        };
        f.write_str(s)
    }
}

/// A PJRT C API version `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiVersion {
    /// Major version (0 for every plugin so far).
    pub major: i32,
    /// Minor version (grows as the API grows).
    pub minor: i32,
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Formats dims as `[2,3]`.
pub(crate) fn dims_str(dims: &[i64]) -> String {
    let inner: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", inner.join(","))
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plugin's function table does not reach this function, or its slot is null.
    #[error("{function} is not implemented by this plugin (PJRT API {plugin_version})")]
    Unimplemented {
        /// The C function's name.
        function: &'static str,
        /// The plugin's API version.
        plugin_version: ApiVersion,
    },

    /// A C function returned a `PJRT_Error`.
    #[error("{function} failed with {code}: {message}")]
    Pjrt {
        /// The C function's name.
        function: &'static str,
        /// The error's status code.
        code: ErrorCode,
        /// The plugin's message.
        message: String,
    },

    /// A plugin file could not be loaded.
    #[error("cannot load PJRT plugin {path}: {reason}")]
    PluginLoad {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// No plugin file could be found.
    #[error("no PJRT plugin found: {0}")]
    PluginNotFound(String),

    /// A client-create option was refused before calling the plugin.
    #[error("client option `{name}`: {reason}")]
    InvalidClientOption {
        /// The option's name.
        name: String,
        /// Why it was refused.
        reason: String,
    },

    /// Compile options that the plugin would abort on, refused before the call.
    #[error("invalid compile options: {0}")]
    InvalidCompileOptions(String),

    /// A host slice whose length does not match the dims it is said to have.
    #[error(
        "{op}: host data has {actual} {unit} but {element_type}{} needs {expected}",
        dims_str(dims)
    )]
    HostSizeMismatch {
        /// The operation.
        op: &'static str,
        /// What is counted: `elements` or `bytes`.
        unit: &'static str,
        /// The element type.
        element_type: ElementType,
        /// The dims given.
        dims: Vec<i64>,
        /// Elements (or bytes) the dims need.
        expected: usize,
        /// Elements (or bytes) given.
        actual: usize,
    },

    /// A Rust element type does not match the data's element type.
    #[error("{op}: element type mismatch: data is {actual}, asked for {expected}")]
    ElementTypeMismatch {
        /// The operation.
        op: &'static str,
        /// The type asked for.
        expected: ElementType,
        /// The data's type.
        actual: ElementType,
    },

    /// An element type a dense host array cannot hold (sub-byte types, tokens).
    #[error("{op}: element type {element_type} has no dense host representation")]
    UnsupportedElementType {
        /// The operation.
        op: &'static str,
        /// The type.
        element_type: ElementType,
    },

    /// A raw element type value this crate does not know.
    #[error("{function} returned unknown element type {raw}")]
    UnknownElementType {
        /// The C function.
        function: &'static str,
        /// The raw value.
        raw: i32,
    },

    /// Dims with a negative entry, or too many elements.
    #[error("{op}: invalid dims {}", dims_str(dims))]
    InvalidDims {
        /// The operation.
        op: &'static str,
        /// The dims.
        dims: Vec<i64>,
    },

    /// The wrong number of execute arguments.
    #[error("execute `{executable}`: expected {expected} arguments, got {actual}")]
    ArgumentCount {
        /// The executable's name.
        executable: String,
        /// Parameters the program has.
        expected: usize,
        /// Arguments given.
        actual: usize,
    },

    /// An execute argument of the wrong shape or element type.
    #[error("execute `{executable}`: argument {index} is {actual_type}{}, the parameter is {expected_type}{}", dims_str(actual_dims), dims_str(expected_dims))]
    ArgumentShape {
        /// The executable's name.
        executable: String,
        /// The argument's position.
        index: usize,
        /// The parameter's element type.
        expected_type: ElementType,
        /// The parameter's dims.
        expected_dims: Vec<i64>,
        /// The argument's element type.
        actual_type: ElementType,
        /// The argument's dims.
        actual_dims: Vec<i64>,
    },

    /// A buffer used after `delete` (or after it was donated to an execution).
    #[error("{op}: the buffer was deleted (or donated to an execution)")]
    BufferDeleted {
        /// The operation.
        op: &'static str,
    },

    /// An executable used after `delete`.
    #[error("execute `{executable}`: the executable was deleted")]
    ExecutableDeleted {
        /// The executable's name.
        executable: String,
    },

    /// A bad device count or device choice for execute.
    #[error("{0}")]
    InvalidDevice(String),

    /// A serialized executable that is not ours or is damaged.
    #[error("invalid serialized executable: {0}")]
    InvalidSerializedExecutable(String),

    /// A serialized executable made by another plugin.
    #[error("serialized executable was made by another plugin: it was made by {found}, this client is {expected}")]
    ForeignExecutable {
        /// This client's plugin identity.
        expected: String,
        /// The identity written in the file.
        found: String,
    },

    /// A protobuf message from the plugin that could not be decoded.
    #[error("cannot decode {message}: {reason}")]
    Decode {
        /// The message type.
        message: &'static str,
        /// Why.
        reason: String,
    },

    /// A string argument containing a NUL byte or other invalid content.
    #[error("{0}")]
    InvalidArgument(String),

    /// A placement in a memory kind the plugin has but does not honour in compiled programs
    /// (it would compute in, and return results to, its default memory instead).
    #[error("{op}: placing values in `{kind}` is not honoured by the plugin {plugin} (PJRT API {plugin_version}): {reason}")]
    PlacementUnsupported {
        /// The operation.
        op: &'static str,
        /// The kind asked for.
        kind: String,
        /// The plugin's file.
        plugin: String,
        /// The plugin's API version.
        plugin_version: ApiVersion,
        /// What the plugin did with a probe program.
        reason: String,
    },

    /// Compiler-chosen (`auto`) layouts the plugin does not support in a usable way: the
    /// program does not compile, or the executable cannot report the layouts chosen (so no
    /// buffer could be made in them).
    #[error("{op}: compiler-chosen (auto) {what} layouts are not usable with the plugin {plugin} (PJRT API {plugin_version}): {reason}")]
    AutoLayoutUnsupported {
        /// The operation.
        op: &'static str,
        /// `parameter` or `result`.
        what: &'static str,
        /// The plugin's file.
        plugin: String,
        /// The plugin's API version.
        plugin_version: ApiVersion,
        /// What the plugin did with a probe program.
        reason: String,
    },

    /// A memory kind the client (or one of its devices) does not have.
    #[error("{op}: no memory of kind `{kind}` here; the memories are: {}", available.join(", "))]
    MemoryKindUnavailable {
        /// The operation.
        op: &'static str,
        /// The kind asked for.
        kind: String,
        /// The kinds there are (of the device, or of the client's addressable memories).
        available: Vec<String>,
    },

    /// A file could not be read or written.
    #[error("{op} {path}: {source}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A handle (device, memory, buffer, executable, ...) of one client or plugin passed to a
    /// function of another. Refused before the call: the plugin would dereference a pointer
    /// it does not own.
    #[error("{function}: {what} belongs to {owner}, but this call is on {expected}; handles cannot be passed between clients")]
    ForeignHandle {
        /// The function that refused it.
        function: &'static str,
        /// What was passed (e.g. "the destination device", "argument 2").
        what: &'static str,
        /// The client (or plugin) the handle belongs to.
        owner: String,
        /// The client (or plugin) the call is on.
        expected: String,
    },

    /// Host memory for a size that comes from the caller, a buffer or a file could not be
    /// allocated (the allocation is tried, never assumed, so the process does not abort).
    #[error("{op}: cannot allocate {bytes} bytes of host memory")]
    HostAllocation {
        /// The operation.
        op: &'static str,
        /// The size asked for.
        bytes: usize,
    },

    /// A program refused before compiling: the plugin's compiler would crash on it or
    /// silently misread it.
    #[error("invalid program: {0}")]
    InvalidProgram(String),

    /// A blocking read that could never return: its data comes from a source that has not
    /// delivered it yet (a transfer manager, an alias buffer, a control dependency).
    #[error("{op}: {reason}")]
    WouldBlock {
        /// The operation.
        op: &'static str,
        /// Why the read would block, and what to do instead.
        reason: String,
    },

    /// A serialized executable whose signature is missing, made with another key, or wrong.
    #[error("untrusted serialized executable: {0}")]
    UntrustedExecutable(String),

    /// A callback into Rust panicked; the panic was caught at the C boundary.
    #[error("a callback panicked: {0}")]
    CallbackPanicked(String),
}

impl Error {
    /// The plugin's status code for a [`Error::Pjrt`], `Unimplemented` for
    /// [`Error::Unimplemented`], `None` otherwise.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Pjrt { code, .. } => Some(*code),
            Error::Unimplemented { .. } => Some(ErrorCode::Unimplemented),
            _ => None,
        }
    }

    /// True when the function is missing from the plugin or the plugin says UNIMPLEMENTED.
    pub fn is_unimplemented(&self) -> bool {
        self.code() == Some(ErrorCode::Unimplemented)
    }
}
