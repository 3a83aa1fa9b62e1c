//! Host-to-device and device-to-host transfers, buffer properties, events.

use std::sync::Arc;

use half::{bf16, f16};
use pjrt::{
    Buffer, BufferPlacement, ElementType, Error, HostBufferSemantics, Literal, MemoryLayout,
    NativeType,
};

use super::common::{block_on, client};

fn round_trip<T: NativeType + PartialEq + std::fmt::Debug>(data: &[T]) {
    let dims = [2, (data.len() / 2) as i64];
    let b = client().buffer_from_host(data, &dims).unwrap();
    assert_eq!(b.element_type().unwrap(), T::ELEMENT_TYPE);
    assert_eq!(b.dims().unwrap(), dims);
    assert_eq!(b.to_vec::<T>().unwrap(), data, "{}", T::ELEMENT_TYPE);
    let mut dst = vec![data[0]; data.len()];
    b.copy_to_host(&mut dst).unwrap();
    assert_eq!(dst, data);
}

#[test]
fn typed_round_trip_for_every_native_type() {
    round_trip(&[1i8, -2, 3, -128]);
    round_trip(&[1i16, -2, 3, i16::MIN]);
    round_trip(&[1i32, -2, 3, i32::MAX]);
    round_trip(&[1i64, -2, 3, i64::MIN]);
    round_trip(&[1u8, 2, 3, 255]);
    round_trip(&[1u16, 2, 3, u16::MAX]);
    round_trip(&[1u32, 2, 3, u32::MAX]);
    round_trip(&[1u64, 2, 3, u64::MAX]);
    round_trip(&[
        f16::from_f32(0.5),
        f16::from_f32(-2.0),
        f16::MAX,
        f16::MIN_POSITIVE,
    ]);
    round_trip(&[
        bf16::from_f32(0.5),
        bf16::from_f32(-2.0),
        bf16::MAX,
        bf16::MIN_POSITIVE,
    ]);
    round_trip(&[0.5f32, -1.25, f32::MAX, f32::MIN_POSITIVE]);
    round_trip(&[0.5f64, -1.25, f64::MAX, f64::MIN_POSITIVE]);
    round_trip(&[[1.0f32, -1.0], [2.0, 0.5], [0.0, 3.0], [-4.0, 4.0]]);
    round_trip(&[[1.0f64, -1.0], [2.0, 0.5], [0.0, 3.0], [-4.0, 4.0]]);
}

#[test]
fn byte_round_trip_for_every_host_holdable_type() {
    let mut tested = 0;
    for t in ElementType::ALL {
        let Some(size) = t.byte_size() else { continue };
        let n = 6;
        let mut bytes: Vec<u8> = (0..n * size).map(|i| (i * 37 % 251) as u8).collect();
        if t == ElementType::Pred {
            bytes = (0..n).map(|i| (i % 2) as u8).collect();
        }
        // Every plugin here (0.81 included) holds all 23 byte-sized types, f8 kinds too.
        let b = client()
            .buffer_from_bytes(t, &bytes, &[3, 2])
            .unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(b.element_type().unwrap(), t);
        assert_eq!(b.to_host_bytes().unwrap(), bytes, "{t}");
        let lit = b.to_literal().unwrap();
        assert_eq!((lit.element_type(), lit.dims()), (t, &[3i64, 2][..]));
        tested += 1;
    }
    assert_eq!(tested, 23);
}

#[test]
fn literals_and_bools_round_trip() {
    let l = Literal::from_bools(&[true, false, true], &[3]).unwrap();
    let b = client().buffer_from_literal(&l).unwrap();
    assert_eq!(b.element_type().unwrap(), ElementType::Pred);
    assert_eq!(
        b.to_literal().unwrap().to_bools().unwrap(),
        vec![true, false, true]
    );
    let s = client()
        .buffer_from_literal(&Literal::scalar(42i32))
        .unwrap();
    assert_eq!(s.dims().unwrap(), Vec::<i64>::new());
    assert_eq!(s.to_literal().unwrap().to_scalar::<i32>().unwrap(), 42);
}

#[test]
fn host_slice_length_must_match_dims() {
    let e = client()
        .buffer_from_host(&[1.0f32, 2.0, 3.0], &[2, 2])
        .unwrap_err();
    match e {
        Error::HostSizeMismatch {
            expected,
            actual,
            ref dims,
            element_type,
            ..
        } => {
            assert_eq!((expected, actual), (4, 3));
            assert_eq!(dims, &[2, 2]);
            assert_eq!(element_type, ElementType::F32);
        }
        other => panic!("expected HostSizeMismatch, got {other}"),
    }
    let e = client()
        .buffer_from_bytes(ElementType::F32, &[0u8; 7], &[2])
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::HostSizeMismatch {
                unit: "bytes",
                expected: 8,
                actual: 7,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "buffer_from_host: host data has 7 bytes but f32[2] needs 8"
    );
    let e = client().buffer_from_host(&[1.0f32], &[-1]).unwrap_err();
    assert!(matches!(e, Error::InvalidDims { .. }), "{e}");
    // Reading back into a slice of the wrong length or type.
    let b = client().buffer_from_host(&[1.0f32, 2.0], &[2]).unwrap();
    let mut small = [0.0f32; 1];
    assert!(matches!(
        b.copy_to_host(&mut small),
        Err(Error::HostSizeMismatch { .. })
    ));
    let mut wrong = [0i32; 2];
    assert!(matches!(
        b.copy_to_host(&mut wrong),
        Err(Error::ElementTypeMismatch { .. })
    ));
}

#[test]
fn all_four_host_buffer_semantics() {
    let c = client();
    let data = [1.0f32, 2.0, 3.0, 4.0];
    let place = BufferPlacement::default();
    for s in [
        HostBufferSemantics::ImmutableOnlyDuringCall,
        HostBufferSemantics::ImmutableUntilTransferCompletes,
    ] {
        let b = c.buffer_from_host_with(&data, &[4], s, &place).unwrap();
        assert_eq!(b.to_vec::<f32>().unwrap(), data, "{s:?}");
    }
    // Borrowed data cannot be aliased.
    let e = c
        .buffer_from_host_with(&data, &[4], HostBufferSemantics::ImmutableZeroCopy, &place)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");

    let shared: Arc<[f32]> = Arc::from(&data[..]);
    for s in [
        HostBufferSemantics::ImmutableOnlyDuringCall,
        HostBufferSemantics::ImmutableUntilTransferCompletes,
        HostBufferSemantics::ImmutableZeroCopy,
    ] {
        let b = c
            .buffer_from_shared(shared.clone(), &[2, 2], s, &place)
            .unwrap();
        assert_eq!(b.to_vec::<f32>().unwrap(), data, "{s:?}");
        drop(b);
    }
    // Once the buffers are gone the plugin has released every reference to the data.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while Arc::strong_count(&shared) > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(Arc::strong_count(&shared), 1);

    let b = c.buffer_from_vec(vec![5i32, 6, 7], &[3], &place).unwrap();
    assert_eq!(b.to_vec::<i32>().unwrap(), vec![5, 6, 7]);
    let e = c
        .buffer_from_vec(vec![5i32, 6, 7], &[4], &place)
        .unwrap_err();
    assert!(matches!(e, Error::HostSizeMismatch { .. }), "{e}");
}

#[test]
fn buffer_properties() {
    let c = client();
    let b = c
        .buffer_from_host(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])
        .unwrap();
    assert_eq!(b.unpadded_dims().unwrap(), vec![2, 3]);
    assert_eq!(b.dynamic_dims().unwrap(), Vec::<usize>::new());
    assert_eq!(b.on_device_size().unwrap(), 24);
    assert!(b.is_on_cpu().unwrap());
    assert_eq!(b.device().unwrap(), c.first_device().unwrap());
    assert_eq!(
        b.memory().unwrap(),
        c.first_device().unwrap().default_memory().unwrap()
    );
    match b.layout().unwrap() {
        MemoryLayout::Tiled { minor_to_major, .. } => assert_eq!(minor_to_major, vec![1, 0]),
        other => panic!("expected a tiled layout, got {other:?}"),
    }
    let mut raw = [0u8; 8];
    b.copy_raw_to_host(4, &mut raw).unwrap();
    assert_eq!(raw[..4], 2.0f32.to_le_bytes());
    assert_eq!(raw[4..], 3.0f32.to_le_bytes());
}

#[test]
fn copies_between_devices_and_memories() {
    let c = client();
    let devices = c.addressable_devices().unwrap();
    let b = c.buffer_from_host(&[1u32, 2, 3], &[3]).unwrap();
    let b1 = b.copy_to_device(&devices[1]).unwrap();
    assert_eq!(b1.device().unwrap(), devices[1]);
    assert_eq!(b1.to_vec::<u32>().unwrap(), vec![1, 2, 3]);
    let m2 = devices[2].default_memory().unwrap();
    let b2 = b.copy_to_memory(&m2).unwrap();
    assert_eq!(b2.memory().unwrap(), m2);
    assert_eq!(b2.to_vec::<u32>().unwrap(), vec![1, 2, 3]);
    let placed = c
        .buffer_from_host_with(
            &[9i64],
            &[1],
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &BufferPlacement::device(&devices[3]),
        )
        .unwrap();
    assert_eq!(placed.device().unwrap(), devices[3]);
}

#[test]
fn buffer_used_after_delete_is_an_error() {
    let b: Buffer = client().buffer_from_host(&[1.0f32, 2.0], &[2]).unwrap();
    assert!(!b.is_deleted().unwrap());
    b.delete().unwrap();
    assert!(b.is_deleted().unwrap());
    let e = b.to_vec::<f32>().unwrap_err();
    assert!(matches!(e, Error::BufferDeleted { .. }), "{e}");
    let e = b
        .copy_to_device(&client().first_device().unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::BufferDeleted { .. }), "{e}");
}

#[test]
fn ready_events_wait_callback_and_future() {
    let b = client().buffer_from_host(&[1.0f32; 16], &[16]).unwrap();
    let e = b.ready_event().unwrap();
    e.wait().unwrap();
    assert!(e.is_ready().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    b.ready_event()
        .unwrap()
        .on_ready(move |r| tx.send(r.is_ok()).unwrap())
        .unwrap();
    assert!(rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap());
    // A panicking callback is caught at the C boundary and does not take the process down.
    b.ready_event()
        .unwrap()
        .on_ready(|_| panic!("deliberate panic in a callback"))
        .unwrap();
    block_on(b.ready_event().unwrap()).unwrap();
}

#[test]
fn buffers_in_every_memory_of_a_device() {
    let c = client();
    let d = c.first_device().unwrap();
    for m in d.addressable_memories().unwrap() {
        let kind = m.kind().unwrap();
        let r = c.buffer_from_host_with(
            &[1.5f32, 2.5],
            &[2],
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &BufferPlacement::memory(&m),
        );
        match r {
            Ok(b) => {
                assert_eq!(b.memory().unwrap(), m, "{kind}");
                assert_eq!(b.to_vec::<f32>().unwrap(), vec![1.5, 2.5], "{kind}");
            }
            // Some plugins cannot place host data directly in every memory kind; they say so.
            Err(e) => assert!(matches!(e, Error::Pjrt { .. }), "{kind}: {e}"),
        }
    }
}
