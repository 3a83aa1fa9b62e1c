//! Zero-copy transfers from 64-byte aligned host arrays.

use std::sync::Arc;

use pjrt::{AlignedVec, BufferPlacement, HOST_ALIGNMENT};

use super::common::client;

#[test]
fn aligned_vec_is_aligned_and_holds_the_data() {
    let data: Vec<f32> = (0..1000).map(|i| i as f32 * 0.5).collect();
    let v = AlignedVec::from_slice(&data).unwrap();
    assert_eq!(v.as_ptr() as usize % HOST_ALIGNMENT, 0);
    assert_eq!(&v[..], &data[..]);
    let z = AlignedVec::<u8>::zeroed(0).unwrap();
    assert!(z.is_empty());
}

#[test]
fn immutable_zero_copy_aliases_aligned_host_memory() {
    let c = client();
    let n = 1 << 16;
    let host: Arc<AlignedVec<f32>> =
        Arc::new(AlignedVec::from_slice(&(0..n).map(|i| i as f32).collect::<Vec<_>>()).unwrap());
    let buf = c
        .buffer_from_aligned(host.clone(), &[n as i64], &BufferPlacement::default())
        .unwrap();
    // SAFETY: only compared as an address, never dereferenced.
    let device_ptr = unsafe { buf.unsafe_pointer() }.unwrap();
    assert_eq!(
        device_ptr,
        host.as_ptr() as usize,
        "the CPU plugin should alias aligned data"
    );
    assert_eq!(buf.to_vec::<f32>().unwrap()[..4], [0.0, 1.0, 2.0, 3.0]);
    // The buffer holds a reference until the plugin is done with the memory.
    assert!(Arc::strong_count(&host) >= 2);
    drop(buf);
    // Released once the plugin's "done with host buffer" event fires.
    for _ in 0..1000 {
        if Arc::strong_count(&host) == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(Arc::strong_count(&host), 1);
}

#[test]
fn mutable_zero_copy_round_trips() {
    let c = client();
    let v = AlignedVec::from_slice(&[1i32, 2, 3, 4, 5, 6]).unwrap();
    let addr = v.as_ptr() as usize;
    let buf = c
        .buffer_from_aligned_mut(v, &[2, 3], &BufferPlacement::default())
        .unwrap();
    // SAFETY: only compared as an address.
    assert_eq!(unsafe { buf.unsafe_pointer() }.unwrap(), addr);
    assert_eq!(buf.to_vec::<i32>().unwrap(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(buf.dims().unwrap(), [2, 3]);
}

#[test]
fn aligned_length_must_match_dims() {
    let c = client();
    let v = Arc::new(AlignedVec::from_slice(&[1.0f32, 2.0, 3.0]).unwrap());
    let err = c
        .buffer_from_aligned(v, &[2, 2], &BufferPlacement::default())
        .unwrap_err();
    assert!(err.to_string().contains("buffer_from_aligned"), "{err}");
}
