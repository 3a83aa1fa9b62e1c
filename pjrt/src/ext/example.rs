//! The Example extension: upstream's template for new extensions (an object with one
//! method). No shipped plugin exposes it; wrapped for completeness.

use pjrt_sys as sys;
use sys::ext::example as x;
use sys::ext::example::PJRT_Example_Extension;

use crate::error::Result;
use crate::plugin::{ext_call, extension_struct};

extension_struct!(
    /// The Example extension of a plugin.
    Example,
    sys::PJRT_Extension_Type_Example
);

/// The extension's object; destroyed on drop.
pub struct ExampleObject {
    ext: Example,
    raw: *mut x::PJRT_ExampleExtensionCpp,
}

impl Example {
    /// Creates the extension's object.
    pub fn create(&self) -> Result<ExampleObject> {
        let mut a = x::PJRT_ExampleExtension_CreateExampleExtensionCpp_Args::new();
        ext_call!(&self.h, PJRT_Example_Extension, create, &mut a)?;
        Ok(ExampleObject {
            ext: self.clone(),
            raw: a.extension_cpp,
        })
    }
}

impl ExampleObject {
    /// Calls the example method with a value.
    pub fn example_method(&self, value: i64) -> Result<()> {
        let mut a = x::PJRT_ExampleExtension_ExampleMethod_Args::new();
        a.extension_cpp = self.raw;
        a.value = value;
        ext_call!(&self.ext.h, PJRT_Example_Extension, example_method, &mut a)
    }
}

impl Drop for ExampleObject {
    fn drop(&mut self) {
        let mut a = x::PJRT_ExampleExtension_CreateExampleExtensionCpp_Args::new();
        a.extension_cpp = self.raw;
        let _ = ext_call!(&self.ext.h, PJRT_Example_Extension, destroy, &mut a);
    }
}
