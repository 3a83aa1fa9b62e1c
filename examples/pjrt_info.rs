//! Prints what a PJRT plugin offers: its file, API version, attributes, extensions, the
//! client's platform, devices (with descriptions) and memories.
//!
//! `cargo run --example pjrt_info` (the plugin: `$PJRT_PLUGIN`, else the set-up's default).

use pjrt::{Client, ClientOptions, Plugin};

fn main() -> pjrt::Result<()> {
    let plugin = Plugin::load_default()?;
    println!("plugin:      {}", plugin.path().display());
    println!(
        "PJRT API:    {} ({} bytes of function table)",
        plugin.api_version(),
        plugin.api_struct_size()
    );

    println!("attributes:");
    for a in plugin.attributes()? {
        println!("  {a}");
    }
    println!("extensions:");
    for e in plugin.extensions() {
        println!("  {:?} ({} bytes)", e.kind, e.struct_size);
    }

    let client = Client::new(&plugin, &ClientOptions::new())?;
    println!(
        "platform:    {} {}",
        client.platform_name(),
        client.platform_version()
    );
    println!("process:     {}", client.process_index()?);
    println!("devices:");
    for d in client.devices()? {
        let desc = d.description()?;
        println!(
            "  id {} kind {:?} process {} local hw id {} addressable {}: {}",
            desc.id()?,
            desc.kind()?,
            desc.process_index()?,
            d.local_hardware_id()?,
            d.is_addressable()?,
            desc.to_string_repr()?
        );
        println!("    debug: {}", desc.debug_string()?);
        for a in desc.attributes()? {
            println!("    attribute {a}");
        }
        let default = d.default_memory()?;
        for m in d.addressable_memories()? {
            let mark = if m == default { " (default)" } else { "" };
            println!(
                "    memory {} kind {:?} (kind id {}){mark}",
                m.id()?,
                m.kind()?,
                m.kind_id()?
            );
        }
        match d.memory_stats() {
            Ok(s) => println!("    memory stats: {s:?}"),
            Err(e) => println!("    memory stats: {e}"),
        }
    }
    println!("memories:");
    for m in client.addressable_memories()? {
        let by: Vec<String> = m
            .addressable_by_devices()?
            .iter()
            .map(|d| d.id().map(|i| i.to_string()).unwrap_or_default())
            .collect();
        println!(
            "  {} ({}), addressable by devices [{}]",
            m.to_string_repr()?,
            m.debug_string()?,
            by.join(", ")
        );
    }
    Ok(())
}
