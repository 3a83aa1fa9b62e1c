//! Walks the extension list of every installed CPU plugin: which extensions each publishes,
//! at which size, which slots are filled, and two of them called for real.

use core::ffi::c_char;

use super::ffi::*;
use super::layouts::*;
use super::memory_descriptions::*;
use super::{find_extension, for_each_extension, slot_present};
use crate::*;

/// One installed plugin and the extension list it is known to publish, in list order:
/// `(type, struct_size)`.
struct Expected {
    dir: &'static str,
    file: &'static str,
    minor: i32,
    extensions: &'static [(PJRT_Extension_Type, usize)],
}

const PLUGINS: &[Expected] = &[
    Expected {
        dir: "cpu-0.81",
        file: "xla_cpu_pjrt.so",
        minor: 81,
        extensions: &[
            (PJRT_Extension_Type_PhaseCompile, 64),
            (PJRT_Extension_Type_FFI, 48),
            (PJRT_Extension_Type_MemoryDescriptions, 40),
            // One slot short of 0.114: no `GetParameterLayouts` yet.
            (PJRT_Extension_Type_Layouts, 72),
        ],
    },
    Expected {
        dir: "cpu-0.106",
        file: "libpjrt_cpu.so",
        minor: 106,
        extensions: &[
            (PJRT_Extension_Type_Shardings, 40),
            (PJRT_Extension_Type_PhaseCompile, 64),
            (PJRT_Extension_Type_FFI, 48),
            (PJRT_Extension_Type_MemoryDescriptions, 40),
            (PJRT_Extension_Type_Layouts, 80),
        ],
    },
    Expected {
        dir: "cpu-0.115",
        file: "pjrt_c_api_cpu_plugin.so",
        minor: 115,
        extensions: &[
            // Two slots past 0.114 (pass-pipeline trace get/destroy, added upstream after
            // the 0.114 header).
            (PJRT_Extension_Type_XlaTransform, 56),
            (PJRT_Extension_Type_Shardings, 40),
            (PJRT_Extension_Type_PhaseCompile, 64),
            (PJRT_Extension_Type_FFI, 48),
            (PJRT_Extension_Type_MemoryDescriptions, 40),
            (PJRT_Extension_Type_Layouts, 80),
        ],
    },
];

/// Loads a plugin once and keeps it loaded for the rest of the process: unloading an XLA
/// CPU plugin (dlclose) makes the process crash later, so the library is leaked on purpose.
fn load(p: &Expected) -> Option<&'static PluginLibrary> {
    let path = crate::plugin_cache_dir()
        .unwrap_or_default()
        .join(p.dir)
        .join(p.file);
    if !path.exists() {
        eprintln!(
            "skipping {}: run scripts/setup.sh to install it",
            path.display()
        );
        return None;
    }
    // SAFETY: a genuine PJRT plugin installed by the set-up script.
    let plugin = unsafe { PluginLibrary::load(&path) }.expect("plugin loads");
    Some(Box::leak(Box::new(plugin)))
}

/// `(type, struct_size)` of each extension the plugin lists, in list order.
fn extensions_of(plugin: &PluginLibrary) -> Vec<(PJRT_Extension_Type, usize)> {
    let mut found = Vec::new();
    // SAFETY: the plugin stays loaded; its list is well formed.
    unsafe { for_each_extension(plugin.api(), 64, |b| found.push((b.type_, b.struct_size))) };
    found
}

/// Whether slot `index` of an extension struct is non-null (the caller checked it exists).
fn slot_filled(ext: *const PJRT_Extension_Base, index: usize) -> bool {
    // SAFETY: `index` lies inside the extension's `struct_size`, so the 8 bytes are the
    // plugin's.
    unsafe {
        (ext as *const u8)
            .add(super::slot_offset(index))
            .cast::<usize>()
            .read()
            != 0
    }
}

#[test]
fn each_plugin_lists_the_known_extensions_at_the_known_sizes() {
    for p in PLUGINS {
        let Some(plugin) = load(p) else { continue };
        assert_eq!(plugin.api_version(), Some((0, p.minor)), "{}", p.dir);
        assert_eq!(extensions_of(plugin), p.extensions, "{}", p.dir);
        for &(ty, size) in p.extensions {
            let info = super::extension_info(ty).expect("known extension");
            // Every listed size is a whole number of slots after the base.
            assert_eq!((size - 24) % 8, 0, "{} {}", p.dir, info.name);
            // Ours is the 0.114 layout: older plugins may be shorter, newer longer.
            if p.minor == 114 {
                assert_eq!(size, info.struct_size, "{} {}", p.dir, info.name);
            }
        }
    }
}

#[test]
fn slots_are_filled_except_phase_compiles_first_two() {
    for p in PLUGINS {
        let Some(plugin) = load(p) else { continue };
        for &(ty, size) in p.extensions {
            let info = super::extension_info(ty).expect("known extension");
            // SAFETY: the plugin stays loaded.
            let ext = unsafe { find_extension(plugin.api(), ty) };
            assert!(!ext.is_null(), "{} {}", p.dir, info.name);
            for (i, name) in info.function_names.iter().enumerate() {
                if !slot_present(size, i) {
                    // Only 0.81's Layouts is short: it lacks the last slot.
                    assert_eq!(
                        (ty, *name),
                        (
                            PJRT_Extension_Type_Layouts,
                            "PJRT_Layouts_PJRT_Executable_GetParameterLayouts"
                        ),
                        "{}",
                        p.dir
                    );
                    continue;
                }
                let expect_null = ty == PJRT_Extension_Type_PhaseCompile && i < 2;
                assert_eq!(
                    slot_filled(ext, i),
                    !expect_null,
                    "{} {} slot {i} {name}",
                    p.dir,
                    info.name
                );
            }
        }
    }
}

/// Panics with the plugin's message if `err` is an error.
fn ok(api: &PJRT_Api, err: *mut PJRT_Error, what: &str) {
    if let Some(msg) = error_message(api, err) {
        panic!("{what}: {msg}");
    }
}

/// The message of `err` (which is then destroyed), or `None` for success.
fn error_message(api: &PJRT_Api, err: *mut PJRT_Error) -> Option<String> {
    if err.is_null() {
        return None;
    }
    let mut m = PJRT_Error_Message_Args::new();
    m.error = err;
    // SAFETY: `err` is a live error from this plugin; slots 0..2 exist in every plugin.
    let msg = unsafe {
        (api.PJRT_Error_Message.expect("Error_Message"))(&mut m);
        let bytes = std::slice::from_raw_parts(m.message as *const u8, m.message_size);
        let msg = String::from_utf8_lossy(bytes).into_owned();
        let mut d = PJRT_Error_Destroy_Args::new();
        d.error = err;
        (api.PJRT_Error_Destroy.expect("Error_Destroy"))(&mut d);
        msg
    };
    Some(msg)
}

fn str_of(data: *const c_char, len: usize) -> String {
    // SAFETY: the plugin returned `len` bytes at `data`.
    let bytes = unsafe { std::slice::from_raw_parts(data as *const u8, len) };
    String::from_utf8_lossy(bytes).into_owned()
}

/// The kinds of the memories of a device description, and the index of the default one.
///
/// # Safety
/// `md` and `desc` come from the live plugin `api` belongs to.
unsafe fn memory_kinds(
    api: &PJRT_Api,
    md: *const PJRT_MemoryDescriptions_Extension,
    desc: *mut PJRT_DeviceDescription,
) -> (Vec<(String, i32)>, usize) {
    let mut mds = PJRT_DeviceDescription_MemoryDescriptions_Args::new();
    mds.device_description = desc;
    // SAFETY: forwarded from the caller; the slot exists in every plugin listing the extension.
    unsafe {
        let f = (*md)
            .PJRT_DeviceDescription_MemoryDescriptions
            .expect("slot");
        ok(api, f(&mut mds), "memory descriptions");
        let mut kinds = Vec::new();
        for i in 0..mds.num_memory_descriptions {
            let mut k = PJRT_MemoryDescription_Kind_Args::new();
            k.memory_description = *mds.memory_descriptions.add(i);
            ok(
                api,
                ((*md).PJRT_MemoryDescription_Kind.expect("slot"))(&mut k),
                "kind",
            );
            kinds.push((str_of(k.kind, k.kind_size), k.kind_id));
        }
        (kinds, mds.default_memory_index)
    }
}

/// Creates a client on each plugin and calls the MemoryDescriptions and Layouts extensions
/// through these structs: the memories of the first device's description and of the
/// topology's, and a default layout serialized and freed.
#[test]
fn memory_descriptions_and_layouts_work_on_every_plugin() {
    for p in PLUGINS {
        let Some(plugin) = load(p) else { continue };
        // SAFETY: the table is at least as long as the slots used below (all from
        // before 0.81), and the plugin stays loaded.
        let api = unsafe { &*plugin.api() };
        unsafe {
            let mut init = PJRT_Plugin_Initialize_Args::new();
            ok(
                api,
                (api.PJRT_Plugin_Initialize.expect("init"))(&mut init),
                "init",
            );

            let mut create = PJRT_Client_Create_Args::new();
            ok(
                api,
                (api.PJRT_Client_Create.expect("create"))(&mut create),
                "client",
            );
            let client = create.client;
            assert!(!client.is_null());

            let mut devs = PJRT_Client_AddressableDevices_Args::new();
            devs.client = client;
            ok(
                api,
                (api.PJRT_Client_AddressableDevices.expect("devs"))(&mut devs),
                "devices",
            );
            assert!(devs.num_addressable_devices >= 1);
            let mut desc = PJRT_Device_GetDescription_Args::new();
            desc.device = *devs.addressable_devices;
            ok(
                api,
                (api.PJRT_Device_GetDescription.expect("desc"))(&mut desc),
                "description",
            );

            // MemoryDescriptions.
            let md = find_extension(plugin.api(), PJRT_Extension_Type_MemoryDescriptions)
                as *const PJRT_MemoryDescriptions_Extension;
            assert!(!md.is_null());
            let from_device = memory_kinds(api, md, desc.device_description);
            let mut topo = PJRT_Client_TopologyDescription_Args::new();
            topo.client = client;
            ok(
                api,
                (api.PJRT_Client_TopologyDescription.expect("topo"))(&mut topo),
                "topology",
            );
            let mut tdescs = PJRT_TopologyDescription_GetDeviceDescriptions_Args::new();
            tdescs.topology = topo.topology;
            let f = api
                .PJRT_TopologyDescription_GetDeviceDescriptions
                .expect("slot");
            ok(api, f(&mut tdescs), "topology device descriptions");
            assert!(tdescs.num_descriptions >= 1);
            let from_topology = memory_kinds(api, md, *tdescs.descriptions);
            // The CPU plugins list the extension but describe no memories, from a client's
            // device or from its topology, and give -1 as the default index.
            assert_eq!(from_device, (vec![], usize::MAX), "{}", p.dir);
            assert_eq!(from_topology, (vec![], usize::MAX), "{}", p.dir);

            // Layouts: default layout of f32[2,3], serialized, then freed.
            let lx = find_extension(plugin.api(), PJRT_Extension_Type_Layouts)
                as *const PJRT_Layouts_Extension;
            assert!(!lx.is_null());
            let dims = [2i64, 3];
            let mut dl = PJRT_Layouts_PJRT_Client_GetDefaultLayout_Args::new();
            dl.client = client;
            dl.type_ = PJRT_Buffer_Type_F32;
            dl.dims = dims.as_ptr();
            dl.num_dims = dims.len();
            let f = (*lx)
                .PJRT_Layouts_PJRT_Client_GetDefaultLayout
                .expect("slot");
            ok(api, f(&mut dl), "default layout");
            assert!(!dl.layout.is_null());
            let mut ser = PJRT_Layouts_MemoryLayout_Serialize_Args::new();
            ser.layout = dl.layout;
            ok(
                api,
                ((*lx).PJRT_Layouts_MemoryLayout_Serialize.expect("slot"))(&mut ser),
                "ser",
            );
            assert!(ser.serialized_bytes_size > 0, "{}", p.dir);
            let bytes = std::slice::from_raw_parts(
                ser.serialized_bytes as *const u8,
                ser.serialized_bytes_size,
            );
            // Not a proto: the layout's text form, minor-to-major.
            assert_eq!(bytes, b"{1,0}", "{}", p.dir);
            (ser.serialized_layout_deleter.expect("deleter"))(ser.serialized_layout);
            let mut del = PJRT_Layouts_MemoryLayout_Destroy_Args::new();
            del.layout = dl.layout;
            ok(
                api,
                ((*lx).PJRT_Layouts_MemoryLayout_Destroy.expect("slot"))(&mut del),
                "free",
            );

            let mut destroy = PJRT_Client_Destroy_Args::new();
            destroy.client = client;
            ok(
                api,
                (api.PJRT_Client_Destroy.expect("destroy"))(&mut destroy),
                "destroy",
            );
        }
    }
}

/// Registers a user-data type through the FFI extension on each plugin: the plugin assigns
/// an id; registering the name again with that id is accepted, with id 0 it is refused.
#[test]
fn ffi_type_register_assigns_an_id_once() {
    for p in PLUGINS {
        let Some(plugin) = load(p) else { continue };
        // SAFETY: the table outlives the test; the FFI extension is listed by every plugin.
        unsafe {
            let api = &*plugin.api();
            let ffi =
                find_extension(plugin.api(), PJRT_Extension_Type_FFI) as *const PJRT_FFI_Extension;
            assert!(!ffi.is_null());
            let register = (*ffi).type_register.expect("slot");
            let name = b"pjrt_sys_ext_test_type";
            let mut info = PJRT_FFI_Type_Info::new();
            let mut args = PJRT_FFI_Type_Register_Args::new();
            args.type_name = name.as_ptr() as *const c_char;
            args.type_name_size = name.len();
            args.type_info = &mut info;
            ok(api, register(&mut args), "type register");
            let id = args.type_id;
            assert!(id > 0, "{}", p.dir);

            let mut again = args;
            ok(api, register(&mut again), "same name, same id");
            assert_eq!(again.type_id, id, "{}", p.dir);

            let mut fresh = args;
            fresh.type_id = 0;
            let msg = error_message(api, register(&mut fresh)).expect("refused");
            assert!(msg.contains("already registered"), "{}: {msg}", p.dir);
        }
    }
}
