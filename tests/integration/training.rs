//! End-to-end training pieces: the digits loader, checkpoints, charts, and (on the CPU
//! plugin) the nn layers and the train step.

use examples::checkpoint::{Checkpoint, Tensor};
use examples::digits::{self, Digits};
use examples::plot::{self, Figure, Panel, Series};

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("training-test-{}-{}", name, std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn digits_file_has_1797_images_with_all_ten_classes() {
    let d = Digits::load(digits::default_path()).unwrap();
    assert_eq!(d.len(), 1797);
    assert_eq!(d.images.len(), 1797 * 64);
    assert!(d.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
    let mut counts = [0usize; 10];
    for &l in &d.labels {
        counts[l as usize] += 1;
    }
    // Every class has between 174 and 183 images in this data set.
    assert!(
        counts.iter().all(|&c| (174..=183).contains(&c)),
        "{counts:?}"
    );
    // The first image is a 0: its first row is 0,0,5,13,9,1,0,0 (divided by 16).
    assert_eq!(d.labels[0], 0);
    assert_eq!(
        &d.images[..8],
        &[
            0.0,
            0.0,
            5.0 / 16.0,
            13.0 / 16.0,
            9.0 / 16.0,
            1.0 / 16.0,
            0.0,
            0.0
        ]
    );
}

#[test]
fn split_is_seeded_disjoint_and_80_20() {
    let d = Digits::load(digits::default_path()).unwrap();
    let (train, test) = d.split(0.8, 7).unwrap();
    assert_eq!((train.len(), test.len()), (1438, 359));
    let (train2, test2) = d.split(0.8, 7).unwrap();
    assert_eq!(train, train2);
    assert_eq!(test, test2);
    let (train3, _) = d.split(0.8, 8).unwrap();
    assert_ne!(train.labels, train3.labels);
    // Together the parts hold exactly the original images (compare sorted rows).
    let rows = |x: &Digits| {
        let mut r: Vec<Vec<u32>> = (0..x.len())
            .map(|i| {
                x.images[i * 64..(i + 1) * 64]
                    .iter()
                    .map(|p| p.to_bits())
                    .chain([x.labels[i] as u32])
                    .collect()
            })
            .collect();
        r.sort();
        r
    };
    let mut both = rows(&train);
    both.extend(rows(&test));
    both.sort();
    assert_eq!(both, rows(&d));
    assert!(d.split(1.0, 0).is_err());
    assert!(d.split(0.0, 0).is_err());
}

#[test]
fn malformed_csv_is_an_error_naming_the_line() {
    let p = std::path::Path::new("x.csv");
    let short = "1,2,3\n";
    let e = Digits::parse_csv(short, p).unwrap_err().to_string();
    assert!(e.contains("line 1") && e.contains("65"), "{e}");
    let mut row: Vec<String> = (0..64).map(|_| "0".to_string()).collect();
    row.push("12".into());
    let e = Digits::parse_csv(&row.join(","), p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("label 12"), "{e}");
    assert!(Digits::load("/nonexistent/digits.csv.gz").is_err());
}

#[test]
fn checkpoint_round_trip_is_bit_exact() {
    let dir = scratch_dir("ckpt");
    let path = dir.join("model.safetensors");
    let mut ck = Checkpoint::default();
    let w: Vec<f32> = (0..64 * 128).map(|i| (i as f32 * 0.37).sin()).collect();
    ck.tensors
        .push(Tensor::new("dense0.w", &[64, 128], w.clone()).unwrap());
    ck.tensors
        .push(Tensor::new("adam.t", &[], vec![17.0]).unwrap());
    ck.metadata.insert("step".into(), "340".into());
    ck.save(&path).unwrap();
    let back = Checkpoint::load(&path).unwrap();
    assert_eq!(back.meta::<u64>("step").unwrap(), 340);
    let bw = &back.get("dense0.w", &[64, 128]).unwrap().data;
    assert!(bw.iter().zip(&w).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(back.get("adam.t", &[]).unwrap().data, vec![17.0]);
    let e = back.get("dense0.w", &[128, 64]).unwrap_err().to_string();
    assert!(e.contains("[128, 64]") && e.contains("[64, 128]"), "{e}");
    std::fs::write(dir.join("junk.safetensors"), b"not a checkpoint").unwrap();
    assert!(Checkpoint::load(dir.join("junk.safetensors")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chart_is_a_valid_png_with_the_series_drawn() {
    let dir = scratch_dir("png");
    let path = dir.join("curve.png");
    let fig = Figure {
        width: 800,
        height: 360,
        panels: vec![
            Panel {
                title: "loss".into(),
                x_label: "epoch".into(),
                y_label: "loss".into(),
                series: vec![Series {
                    name: "mlp".into(),
                    points: (0..20)
                        .map(|i| (i as f64, 1.0 / (1.0 + i as f64)))
                        .collect(),
                }],
                y_range: None,
            },
            Panel {
                title: "accuracy".into(),
                series: vec![Series {
                    name: "cnn".into(),
                    points: vec![(0.0, 0.5), (1.0, 0.9)],
                }],
                ..Default::default()
            },
        ],
    };
    fig.save_png(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h, rgb) = plot::read_png(&path).unwrap();
    assert_eq!((w, h), (800, 360));
    assert_eq!(rgb.len(), 800 * 360 * 3);
    // The first series colour appears in the left half, and the background is white.
    let left_has_series = (0..h as usize)
        .any(|y| (0..400).any(|x| rgb[(y * 800 + x) * 3..][..3] == plot::PALETTE[0]));
    assert!(left_has_series);
    assert_eq!(&rgb[..3], &[255, 255, 255]);
    std::fs::remove_dir_all(&dir).unwrap();
}
