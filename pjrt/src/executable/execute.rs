//! Running a loaded program: on device buffers (one device, several, or asynchronously with
//! completion events) or from host literals; arguments are checked against the compiled
//! parameters first.

use std::sync::atomic::Ordering;

use pjrt_sys as sys;

use crate::buffer::{Buffer, BufferPlacement, HostBufferSemantics, PendingSet};
use crate::device::{Device, Event};
use crate::error::{Error, Result};
use crate::executable::loaded::LoadedExecutable;
use crate::literal::Literal;
use crate::plugin::call;
use crate::types::ElementType;

/// Options for one execution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecuteOptions {
    /// Id shared by all participants of one multi-device launch (0: let the plugin pick).
    pub launch_id: i32,
    /// Argument positions that must not be donated even if the program allows it.
    pub non_donatable_input_indices: Vec<i64>,
    /// Wait until the execution has finished on every device before returning (execution
    /// errors then surface here rather than on the outputs).
    pub wait: bool,
    /// The device to run a portable executable on (see
    /// [`CompileOptions::portable`](crate::CompileOptions::portable)).
    pub device: Option<Device>,
}

impl LoadedExecutable {
    fn check_args<'a>(
        &self,
        args: impl ExactSizeIterator<Item = (ElementType, &'a [i64])>,
    ) -> Result<()> {
        let Some(params) = self.parameters() else {
            return Ok(());
        };
        if args.len() != params.len() {
            return Err(Error::ArgumentCount {
                executable: self.name.clone(),
                expected: params.len(),
                actual: args.len(),
            });
        }
        for (index, ((et, dims), p)) in args.zip(params).enumerate() {
            if et != p.element_type || dims != p.dims.as_slice() {
                return Err(Error::ArgumentShape {
                    executable: self.name.clone(),
                    index,
                    expected_type: p.element_type,
                    expected_dims: p.dims.clone(),
                    actual_type: et,
                    actual_dims: dims.to_vec(),
                });
            }
        }
        Ok(())
    }

    /// Runs on the first device with device-resident arguments; returns the outputs.
    pub fn execute(&self, args: &[&Buffer]) -> Result<Vec<Buffer>> {
        self.execute_with(args, &ExecuteOptions::default())
    }

    /// [`execute`](Self::execute) with options (donation control, launch id, waiting).
    pub fn execute_with(&self, args: &[&Buffer], options: &ExecuteOptions) -> Result<Vec<Buffer>> {
        let mut out = self.execute_devices(&[args], options)?;
        out.pop()
            .ok_or_else(|| Error::InvalidDevice("execute returned no outputs".into()))
    }

    /// Runs on `args.len()` devices at once (one argument list per addressable device, in
    /// [`addressable_devices`](Self::addressable_devices) order); returns outputs per device.
    pub fn execute_sharded(
        &self,
        args: &[Vec<&Buffer>],
        options: &ExecuteOptions,
    ) -> Result<Vec<Vec<Buffer>>> {
        let lists: Vec<&[&Buffer]> = args.iter().map(|v| v.as_slice()).collect();
        self.execute_devices(&lists, options)
    }

    /// Launches on `args.len()` devices and returns at once: the outputs per device and one
    /// completion [`Event`] per device (wait on it, register a callback, or `.await` it).
    /// Execution errors surface on the events and on the outputs.
    pub fn execute_async(
        &self,
        args: &[Vec<&Buffer>],
        options: &ExecuteOptions,
    ) -> Result<(Vec<Vec<Buffer>>, Vec<Event>)> {
        let lists: Vec<&[&Buffer]> = args.iter().map(|v| v.as_slice()).collect();
        self.launch(&lists, options, true)
    }

    fn execute_devices(
        &self,
        args: &[&[&Buffer]],
        options: &ExecuteOptions,
    ) -> Result<Vec<Vec<Buffer>>> {
        let (results, events) = self.launch(args, options, options.wait)?;
        for e in &events {
            e.wait()?;
        }
        Ok(results)
    }

    fn launch(
        &self,
        args: &[&[&Buffer]],
        options: &ExecuteOptions,
        want_events: bool,
    ) -> Result<(Vec<Vec<Buffer>>, Vec<Event>)> {
        if self.deleted.load(Ordering::Acquire) {
            return Err(Error::ExecutableDeleted {
                executable: self.name.clone(),
            });
        }
        let num_devices = args.len();
        let expected = if options.device.is_some() {
            1
        } else {
            self.devices.len().max(1)
        };
        if num_devices != expected {
            return Err(Error::InvalidDevice(format!(
                "execute `{}`: got argument lists for {num_devices} devices, the executable runs on {expected}",
                self.name
            )));
        }
        if let Some(d) = &options.device {
            self.client
                .check_owns("execute", "ExecuteOptions::device", d.client())?;
            if !self.devices.is_empty() && !self.devices.iter().any(|x| x == d) {
                return Err(Error::InvalidDevice(format!(
                    "execute `{}`: ExecuteOptions::device {d:?} is not one of the executable's devices {:?}",
                    self.name, self.devices
                )));
            }
        }
        let num_args = args[0].len();
        for (i, list) in args.iter().enumerate() {
            if list.len() != num_args {
                return Err(Error::InvalidDevice(format!(
                    "execute `{}`: argument lists of different lengths ({} and {num_args})",
                    self.name,
                    list.len()
                )));
            }
            // The device list `i` runs on: the chosen device, else the i-th addressable one.
            let device = match &options.device {
                Some(d) => Some(d),
                None => self.devices.get(i),
            };
            let mut metas = Vec::with_capacity(list.len());
            for (k, b) in list.iter().enumerate() {
                self.client
                    .check_owns("execute", "an argument buffer", b.client())?;
                b.check_live("execute")?;
                metas.push(b.meta()?);
                // A buffer on another device than the one its list runs on: some plugins
                // refuse it with a misleading message, the 0.106 CPU plugin crashes.
                if let Some(d) = device {
                    let on = b.device_raw()?;
                    if on != d.raw {
                        return Err(Error::InvalidDevice(format!(
                            "execute `{}`: argument {k} of device list {i} is on {:?}, but list {i} runs on {d:?}; copy it there first (Buffer::copy_to_device)",
                            self.name,
                            b.device()?,
                        )));
                    }
                }
            }
            self.check_args(metas.iter().map(|(t, d)| (*t, d.as_slice())))?;
        }
        let raw_args: Vec<Vec<*mut sys::PJRT_Buffer>> = args
            .iter()
            .map(|l| l.iter().map(|b| b.raw()).collect())
            .collect();
        let arg_ptrs: Vec<*const *mut sys::PJRT_Buffer> =
            raw_args.iter().map(|l| l.as_ptr()).collect();
        let mut outs: Vec<Vec<*mut sys::PJRT_Buffer>> =
            vec![vec![std::ptr::null_mut(); self.num_outputs]; num_devices];
        let out_ptrs: Vec<*mut *mut sys::PJRT_Buffer> =
            outs.iter_mut().map(|l| l.as_mut_ptr()).collect();
        let mut events: Vec<*mut sys::PJRT_Event> = vec![std::ptr::null_mut(); num_devices];

        let mut o = sys::PJRT_ExecuteOptions::new();
        o.launch_id = options.launch_id;
        o.non_donatable_input_indices = options.non_donatable_input_indices.as_ptr();
        o.num_non_donatable_input_indices = options.non_donatable_input_indices.len();
        let mut a = sys::PJRT_LoadedExecutable_Execute_Args::new();
        a.executable = self.raw;
        a.options = &mut o;
        a.argument_lists = arg_ptrs.as_ptr();
        a.num_devices = num_devices;
        a.num_args = num_args;
        a.output_lists = out_ptrs.as_ptr();
        a.execute_device = options
            .device
            .as_ref()
            .map_or(std::ptr::null_mut(), |d| d.raw);
        a.device_complete_events = if want_events {
            events.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        };
        call!(self.client.api(), PJRT_LoadedExecutable_Execute, &mut a)?;

        // Take ownership of every output and event before reporting any error. Outputs wait
        // for whatever their device's inputs wait for.
        let results: Vec<Vec<Buffer>> = outs
            .iter()
            .zip(args)
            .map(|(l, ins)| {
                let pending = PendingSet::union(ins.iter().map(|b| &b.pending));
                l.iter()
                    .map(|&b| Buffer::wrap(&self.client, b, None).with_pending(pending.clone()))
                    .collect()
            })
            .collect();
        let events: Vec<Event> = events
            .into_iter()
            .filter_map(|e| Event::from_raw(self.client.plugin(), e))
            .collect();
        Ok((results, events))
    }

    /// Host data in, host data out: copies the literals to the first device, runs, and
    /// copies every output back. Arguments are checked against the parameters first.
    pub fn run(&self, args: &[&Literal]) -> Result<Vec<Literal>> {
        if self.deleted.load(Ordering::Acquire) {
            return Err(Error::ExecutableDeleted {
                executable: self.name.clone(),
            });
        }
        self.check_args(args.iter().map(|l| (l.element_type(), l.dims())))?;
        let placement = match self.devices.first() {
            Some(d) => BufferPlacement::device(d),
            None => BufferPlacement::default(),
        };
        let buffers: Vec<Buffer> = args
            .iter()
            .map(|l| {
                self.client.buffer_from_bytes_with(
                    l.element_type(),
                    l.as_bytes(),
                    l.dims(),
                    HostBufferSemantics::ImmutableOnlyDuringCall,
                    &placement,
                )
            })
            .collect::<Result<_>>()?;
        let refs: Vec<&Buffer> = buffers.iter().collect();
        let outs = self.execute(&refs)?;
        outs.iter().map(Buffer::to_literal).collect()
    }
}
