//! Hostile files: serialized executables damaged at many offsets, truncated, forged,
//! re-signed; data files that are bombs or lies; plugin files that are cut, empty, or not
//! plugins. (Checkpoints of the training API: `cases/train.rs`.)

use std::io::{Read, Seek, SeekFrom, Write};

use pjrt::{Client, SerializedExecutable, SigningKey};

use crate::case::{
    case, check_eq, check_square, files as names, read, signing_key, wrong, Area, Case, Ctx,
    Expect, Failure, Outcome,
};

/// Writes `bytes` to a scratch file and loads it as an executable on the default client.
fn load_bytes(ctx: &Ctx, bytes: &[u8]) -> Result<Outcome, Failure> {
    let path = ctx.scratch("exe.pjrt");
    std::fs::write(&path, bytes)?;
    let exe = ctx.client()?.load_executable(&path)?;
    // Loaded: it must at least compute the right thing (else it is the damage we look for).
    match check_square(&exe)? {
        Outcome::Correct(d) => wrong(format!("a damaged file loaded and ran right: {d}")),
        other => Ok(other),
    }
}

fn square_bytes(ctx: &Ctx) -> Result<Vec<u8>, Failure> {
    read(&ctx.shared(names::SQUARE))
}

/// Where a damaged byte goes: from the start, from the end, or a fraction of the length.
#[derive(Clone, Copy)]
enum At {
    Start(usize),
    End(usize),
    Permille(usize),
}

impl At {
    fn offset(self, len: usize) -> usize {
        match self {
            At::Start(k) => k.min(len - 1),
            At::End(k) => len - k.min(len),
            At::Permille(p) => len * p / 1000,
        }
    }

    fn name(self) -> String {
        match self {
            At::Start(k) => format!("start+{k}"),
            At::End(k) => format!("end-{k}"),
            At::Permille(p) => format!("{p}permille"),
        }
    }
}

/// A copy of the `what` plugin file cut to `len` bytes, in the scratch folder.
fn cut_plugin(ctx: &Ctx, len: impl Fn(u64) -> u64) -> Result<std::path::PathBuf, Failure> {
    let src = Ctx::plugin_path(crate::case::DEFAULT)?;
    let total = std::fs::metadata(&src)?.len();
    let path = ctx.scratch("plugin.so");
    let mut from = std::fs::File::open(&src)?;
    let mut to = std::fs::File::create(&path)?;
    std::io::copy(&mut (&mut from).take(len(total)), &mut to)?;
    Ok(path)
}

fn load_plugin(path: &std::path::Path) -> Result<Outcome, Failure> {
    let p = pjrt::Plugin::load(path)?;
    let c = Client::new(&p, &pjrt::ClientOptions::new())?;
    wrong(format!("loaded {} as a plugin: {c:?}", path.display()))
}

/// A gzip file holding `text`.
fn gz(ctx: &Ctx, text: &[u8]) -> Result<std::path::PathBuf, Failure> {
    let path = ctx.scratch("digits.csv.gz");
    let mut e =
        flate2::write::GzEncoder::new(std::fs::File::create(&path)?, flate2::Compression::fast());
    e.write_all(text)?;
    e.finish()?;
    Ok(path)
}

fn digits_line(pixel: &str, label: &str) -> String {
    let mut f: Vec<&str> = vec!["3"; 64];
    f[10] = pixel;
    f.push(label);
    f.join(",")
}

fn load_digits(path: &std::path::Path) -> Result<Outcome, Failure> {
    let d = examples::digits::Digits::load(path)?;
    wrong(format!("loaded {} images from a hostile file", d.len()))
}

pub fn cases() -> Vec<Case> {
    let a = Area::Files;
    let mut v = Vec::new();

    // One damaged byte anywhere: refused before the plugin sees the file.
    let mut spots: Vec<At> = (0..64).step_by(3).map(At::Start).collect();
    spots.extend((1..=66).step_by(5).map(At::End));
    spots.extend((50..=950).step_by(30).map(At::Permille));
    for at in spots {
        v.push(case(
            a,
            format!("exe-flip-{}", at.name()),
            Expect::Error("invalid serialized executable"),
            move |ctx| {
                let mut b = square_bytes(ctx)?;
                let i = at.offset(b.len());
                b[i] ^= 0x20;
                load_bytes(ctx, &b)
            },
        ));
    }
    for cut in [
        At::Start(0),
        At::Start(1),
        At::Start(8),
        At::Start(12),
        At::Start(44),
        At::Permille(500),
        At::End(1),
        At::End(2),
        At::End(33),
        At::End(34),
    ] {
        v.push(case(
            a,
            format!("exe-truncated-{}", cut.name()),
            Expect::Error("invalid serialized executable"),
            move |ctx| {
                let b = square_bytes(ctx)?;
                let n = match cut {
                    At::Start(k) => k,
                    other => other.offset(b.len()),
                };
                load_bytes(ctx, &b[..n])
            },
        ));
    }
    v.push(case(
        a,
        "exe-appended-bytes",
        Expect::Error("trailing"),
        |ctx| {
            let mut b = square_bytes(ctx)?;
            b.extend_from_slice(b"more");
            load_bytes(ctx, &b)
        },
    ));
    v.push(case(
        a,
        "exe-version-1",
        Expect::Error("version 1"),
        |ctx| {
            let mut b = square_bytes(ctx)?;
            b[8..12].copy_from_slice(&1u32.to_le_bytes());
            load_bytes(ctx, &b)
        },
    ));
    v.push(case(
        a,
        "exe-version-3",
        Expect::Error("format version 3"),
        |ctx| {
            let mut b = square_bytes(ctx)?;
            b[8..12].copy_from_slice(&3u32.to_le_bytes());
            load_bytes(ctx, &b)
        },
    ));
    v.push(case(
        a,
        "exe-empty-file",
        Expect::Error("invalid serialized executable"),
        |ctx| load_bytes(ctx, &[]),
    ));
    v.push(case(
        a,
        "exe-missing-file",
        Expect::Error("read executable"),
        |ctx| {
            ctx.client()?.load_executable(ctx.scratch("no-such.pjrt"))?;
            wrong("a missing file loaded")
        },
    ));
    v.push(case(
        a,
        "exe-directory",
        Expect::Error("read executable"),
        |ctx| {
            ctx.client()?.load_executable(&ctx.scratch)?;
            wrong("a directory loaded")
        },
    ));
    v.push(case(
        a,
        "exe-blob-length-2-pow-63",
        Expect::Error("invalid serialized executable"),
        |ctx| {
            let mut s = SerializedExecutable::from_bytes(&square_bytes(ctx)?)?;
            s.blob.truncate(8);
            let mut b = s.to_bytes()?;
            // The blob length sits 8 bytes before the blob (8 bytes) + digest + kind.
            let at = b.len() - 1 - 32 - 8 - 8;
            b[at..at + 8].copy_from_slice(&(1u64 << 63).to_le_bytes());
            load_bytes(ctx, &b)
        },
    ));
    v.push(case(
        a,
        "exe-platform-length-4gib",
        Expect::Error("invalid serialized executable"),
        |ctx| {
            let mut b = square_bytes(ctx)?;
            b[52..56].copy_from_slice(&u32::MAX.to_le_bytes());
            load_bytes(ctx, &b)
        },
    ));
    v.push(case(
        a,
        "exe-platform-not-utf8",
        Expect::Error("UTF-8"),
        |ctx| {
            let mut s = SerializedExecutable::from_bytes(&square_bytes(ctx)?)?;
            s.identity.platform_name = "cpu".into();
            let mut b = s.to_bytes()?;
            b[56] = 0xff; // first byte of the platform name
                          // A valid digest over the changed bytes: the check is the UTF-8 one.
            let body = b.len() - 33;
            let d = sha256(&b[..body]);
            b[body..body + 32].copy_from_slice(&d);
            load_bytes(ctx, &b)
        },
    ));
    v.push(case(
        a,
        "exe-garbage-blob-valid-envelope",
        Expect::Error("DeserializeAndLoad"),
        |ctx| {
            let mut s = SerializedExecutable::from_bytes(&square_bytes(ctx)?)?;
            s.blob = b"this is not an executable, but its envelope is well formed".to_vec();
            load_bytes(ctx, &s.to_bytes()?)
        },
    ));
    v.push(case(
        a,
        "exe-relabelled-as-another-plugin",
        Expect::Error("another plugin"),
        |ctx| {
            let mut s = SerializedExecutable::from_bytes(&square_bytes(ctx)?)?;
            s.identity.sha256[0] ^= 1;
            s.identity.api_version.minor = 81;
            load_bytes(ctx, &s.to_bytes()?)
        },
    ));
    for other in ["0.81", "0.106"] {
        v.push(case(
            a,
            format!("exe-of-0.115-loaded-on-{other}"),
            Expect::Error("another plugin"),
            move |ctx| {
                let c = ctx.client_of(other, 1)?;
                let exe = c.load_executable(ctx.shared(names::SQUARE))?;
                check_square(&exe).and_then(|o| wrong(format!("loaded on {other}: {o:?}")))
            },
        ));
        // The identity is a claim: a 0.115 blob relabelled as `other`'s, re-signed by an
        // attacker. A deployment that requires our signature refuses it.
        v.push(case(
            a,
            format!("exe-forged-for-{other}-signed-deployment"),
            Expect::Error("not by the trusted key"),
            move |ctx| {
                let c = ctx.client_of(other, 1)?;
                let mut s = SerializedExecutable::from_bytes(&square_bytes(ctx)?)?;
                s.identity = c.identity()?;
                s.sign(&SigningKey::generate()?)?;
                let trusted = signing_key(ctx)?.verifying_key();
                let exe = c.deserialize_executable_verified(&s.to_bytes()?, &trusted)?;
                check_square(&exe).and_then(|o| wrong(format!("a forged file loaded: {o:?}")))
            },
        ));
        v.push(case(
            a,
            format!("exe-forged-for-{other}-unsigned-in-signed-deployment"),
            Expect::Error("not signed"),
            move |ctx| {
                let c = ctx.client_of(other, 1)?;
                let mut s = SerializedExecutable::from_bytes(&square_bytes(ctx)?)?;
                s.identity = c.identity()?;
                let trusted = signing_key(ctx)?.verifying_key();
                let exe = c.deserialize_executable_verified(&s.to_bytes()?, &trusted)?;
                check_square(&exe).and_then(|o| wrong(format!("a forged file loaded: {o:?}")))
            },
        ));
    }
    v.push(case(a, "exe-unsigned-loads", Expect::Correct, |ctx| {
        let exe = ctx.client()?.load_executable(ctx.shared(names::SQUARE))?;
        check_square(&exe)
    }));
    v.push(case(
        a,
        "exe-signed-loads-verified",
        Expect::Correct,
        |ctx| {
            let key = signing_key(ctx)?.verifying_key();
            let exe = ctx
                .client()?
                .load_executable_verified(ctx.shared(names::SQUARE_SIGNED), &key)?;
            check_square(&exe)
        },
    ));
    v.push(case(
        a,
        "exe-unsigned-in-signed-deployment",
        Expect::Error("not signed"),
        |ctx| {
            let key = signing_key(ctx)?.verifying_key();
            let exe = ctx
                .client()?
                .load_executable_verified(ctx.shared(names::SQUARE), &key)?;
            check_square(&exe).and_then(|o| wrong(format!("unsigned file loaded: {o:?}")))
        },
    ));
    v.push(case(
        a,
        "exe-resigned-by-another-key",
        Expect::Error("not by the trusted key"),
        |ctx| {
            let mut s =
                SerializedExecutable::from_bytes(&read(&ctx.shared(names::SQUARE_SIGNED))?)?;
            s.blob = SerializedExecutable::from_bytes(&read(&ctx.shared(names::ADD))?)?.blob;
            s.sign(&SigningKey::generate()?)?;
            let key = signing_key(ctx)?.verifying_key();
            ctx.client()?
                .deserialize_executable_verified(&s.to_bytes()?, &key)?;
            wrong("a re-signed file loaded")
        },
    ));
    v.push(case(
        a,
        "exe-signed-blob-swapped",
        Expect::Error("does not match"),
        |ctx| {
            let mut s =
                SerializedExecutable::from_bytes(&read(&ctx.shared(names::SQUARE_SIGNED))?)?;
            s.blob = SerializedExecutable::from_bytes(&read(&ctx.shared(names::ADD))?)?.blob;
            let key = signing_key(ctx)?.verifying_key();
            ctx.client()?
                .deserialize_executable_verified(&s.to_bytes()?, &key)?;
            wrong("a file changed after signing loaded")
        },
    ));
    v.push(case(
        a,
        "exe-signed-signature-flipped",
        Expect::Error("does not match"),
        |ctx| {
            let mut b = read(&ctx.shared(names::SQUARE_SIGNED))?;
            let n = b.len();
            b[n - 10] ^= 1;
            let key = signing_key(ctx)?.verifying_key();
            ctx.client()?.deserialize_executable_verified(&b, &key)?;
            wrong("a file with a damaged signature loaded")
        },
    ));
    v.push(case(
        a,
        "exe-signed-key-swapped",
        Expect::Error("not by the trusted key"),
        |ctx| {
            let mut b = read(&ctx.shared(names::SQUARE_SIGNED))?;
            let n = b.len();
            let attacker = SigningKey::generate()?.verifying_key().to_bytes();
            b[n - 96..n - 64].copy_from_slice(&attacker);
            let key = signing_key(ctx)?.verifying_key();
            ctx.client()?.deserialize_executable_verified(&b, &key)?;
            wrong("a file with another signer's key loaded")
        },
    ));

    // Data files for the digits examples.
    type DataFn = fn(&Ctx) -> Result<std::path::PathBuf, Failure>;
    let data: Vec<(&str, &'static str, DataFn)> = vec![
        ("missing", "no-such-digits", |ctx| {
            Ok(ctx.scratch("no-such-digits.csv.gz"))
        }),
        ("gzip-bomb", "decompresses to more than", |ctx| {
            gz(ctx, &vec![b'1'; 80 << 20])
        }),
        ("not-gzip", "digits.csv", |ctx| {
            let p = ctx.scratch("digits.csv");
            std::fs::write(&p, "1,2,3\n")?;
            Ok(p)
        }),
        ("truncated-gzip", "digits.csv.gz", |ctx| {
            let p = gz(ctx, digits_line("3", "1").repeat(100).as_bytes())?;
            let b = std::fs::read(&p)?;
            std::fs::write(&p, &b[..b.len() / 2])?;
            Ok(p)
        }),
        ("label-out-of-range", "label", |ctx| {
            gz(ctx, digits_line("3", "10").as_bytes())
        }),
        ("label-negative", "label", |ctx| {
            gz(ctx, digits_line("3", "-1").as_bytes())
        }),
        ("label-fractional", "label", |ctx| {
            gz(ctx, digits_line("3", "1.5").as_bytes())
        }),
        ("pixel-nan", "pixel", |ctx| {
            gz(ctx, digits_line("NaN", "1").as_bytes())
        }),
        ("pixel-17", "pixel", |ctx| {
            gz(ctx, digits_line("17", "1").as_bytes())
        }),
        ("pixel-not-a-number", "not a number", |ctx| {
            gz(ctx, digits_line("x", "1").as_bytes())
        }),
        ("field-count", "comma-separated", |ctx| gz(ctx, b"1,2,3\n")),
        ("empty", "no images", |ctx| gz(ctx, b"")),
        ("blank-lines", "no images", |ctx| gz(ctx, b"\n\n  \n")),
    ];
    for (name, needle, f) in data {
        v.push(case(
            a,
            format!("digits-{name}"),
            Expect::Error(needle),
            move |ctx| load_digits(&f(ctx)?),
        ));
    }
    v.push(case(
        a,
        "digits-too-small-to-split",
        Expect::Error("split"),
        |ctx| {
            let p = gz(ctx, digits_line("3", "1").as_bytes())?;
            let d = examples::digits::Digits::load(&p)?;
            let (t, s) = d.split(0.8, 0)?;
            wrong(format!("split one image into {} and {}", t.len(), s.len()))
        },
    ));

    // Plugin files that are not whole plugins.
    type CutFn = fn(u64) -> u64;
    let cuts: [(&str, CutFn); 8] = [
        ("empty", |_| 0),
        ("63-bytes", |_| 63),
        ("64-bytes", |_| 64),
        ("4-kib", |_| 4096),
        ("1-mib", |_| 1 << 20),
        ("half", |n| n / 2),
        ("all-but-4-kib", |n| n - 4096),
        ("all-but-1-byte", |n| n - 1),
    ];
    for (name, len) in cuts {
        v.push(case(
            a,
            format!("plugin-truncated-{name}"),
            Expect::Error("cannot load PJRT plugin"),
            move |ctx| load_plugin(&cut_plugin(ctx, len)?),
        ));
    }
    v.push(case(a, "plugin-text-file", Expect::Error("not a shared library"), |ctx| {
        let p = ctx.scratch("plugin.so");
        std::fs::write(&p, "#!/bin/sh\necho this is not a plugin, whatever its name says ........................\n")?;
        load_plugin(&p)
    }));
    v.push(case(
        a,
        "plugin-directory",
        Expect::Error("not a regular file"),
        |ctx| load_plugin(&ctx.scratch),
    ));
    v.push(case(
        a,
        "plugin-missing",
        Expect::Error("cannot load PJRT plugin"),
        |ctx| load_plugin(&ctx.scratch("no-such-plugin.so")),
    ));
    v.push(case(
        a,
        "plugin-an-executable",
        Expect::Error("cannot load PJRT plugin"),
        |_| load_plugin(std::path::Path::new("/bin/true")),
    ));
    v.push(case(
        a,
        "plugin-a-library-without-pjrt",
        Expect::Error("cannot load PJRT plugin"),
        |_| {
            let lib = [
                "/lib/x86_64-linux-gnu/libz.so.1",
                "/usr/lib/x86_64-linux-gnu/libz.so.1",
            ]
            .into_iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.exists())
            .ok_or("cannot load PJRT plugin: no libz to try (skipped)")?;
            load_plugin(&lib)
        },
    ));
    v.push(case(
        a,
        "plugin-wrong-machine",
        Expect::Error("machine"),
        |ctx| {
            let p = cut_plugin(ctx, |n| n)?;
            let mut f = std::fs::OpenOptions::new().write(true).open(&p)?;
            f.seek(SeekFrom::Start(18))?;
            f.write_all(&183u16.to_le_bytes())?; // aarch64
            drop(f);
            load_plugin(&p)
        },
    ));
    v.push(case(
        a,
        "plugin-env-names-nothing",
        Expect::Error("PJRT_PLUGIN"),
        |ctx| {
            // Discovery with $PJRT_PLUGIN naming a missing file is an error, not a fallback.
            std::env::set_var("PJRT_PLUGIN", ctx.scratch("nothing.so"));
            let p = pjrt::Plugin::load_default()?;
            wrong(format!("loaded {p:?}"))
        },
    ));
    v.push(case(a, "plugin-whole-copy-loads", Expect::Correct, |ctx| {
        let p = cut_plugin(ctx, |n| n)?;
        let c = Client::new(
            &pjrt::Plugin::load(&p)?,
            &pjrt::ClientOptions::new().cpu_device_count(1),
        )?;
        let exe = c.compile(&pjrt::Program::mlir_text(crate::case::SQUARE))?;
        check_square(&exe).and_then(|o| {
            check_eq(
                "square",
                o,
                Outcome::Correct("square: [1.0, 4.0, 9.0]".into()),
            )
        })
    }));
    v
}

fn sha256(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}
