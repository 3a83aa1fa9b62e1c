//! Optimizer state offloaded to pinned host memory: a train step that keeps Adam's state in
//! `pinned_host` between steps (moved to the device inside the step) gives the parameters of
//! the all-device step, and its executable and buffers say where everything lives. Placement
//! is honoured by the CPU plugins from PJRT API 0.115; on older ones it is refused by name.

use autodiff::nn::{self, Mlp, Module, ModuleExt};
use autodiff::train::optim::Adam;
use autodiff::train::{HostData, TrainStep};
use examples::models::Classifier;
use hlo_builder::{Builder, ElementType, LayoutMode, MemoryKind, Placement, Tensor, TensorType};
use pjrt::ext::layouts::Layouts;
use pjrt::Client;

fn types(batch: i64) -> [TensorType; 2] {
    [
        TensorType::new(ElementType::F32, [batch, 64]),
        TensorType::new(ElementType::S32, [batch]),
    ]
}

fn leaves<M: Module>(m: &M) -> Vec<(String, Vec<u32>)> {
    m.params()
        .iter()
        .filter(|(_, p)| p.ty().ty == ElementType::F32)
        .map(|(n, p)| {
            let v = p.host().unwrap().to_vec::<f32>().unwrap();
            (n.clone(), v.iter().map(|x| x.to_bits()).collect())
        })
        .collect()
}

/// Deterministic batches: pixel values and labels from a small integer hash.
fn batches(n: usize, batch: usize) -> Vec<(Vec<f32>, Vec<i32>)> {
    (0..n)
        .map(|s| {
            let x = (0..batch * 64)
                .map(|i| ((i * 7 + s * 13) % 17) as f32 / 16.0)
                .collect();
            let y = (0..batch).map(|i| ((i + s) % 10) as i32).collect();
            (x, y)
        })
        .collect()
}

fn loss(m: &Mlp, b: &[Tensor]) -> hlo_builder::Result<Tensor> {
    m.logits(&b[0])?.cross_entropy(&b[1])
}

#[test]
fn offloaded_optimizer_state_trains_like_the_all_device_step() {
    let c = Client::default_cpu().unwrap();
    let model = examples::models::mlp().init(&mut nn::seeded(7)).unwrap();
    let build = |offload: bool, k: usize| {
        let b = TrainStep::new(&c, model.clone())
            .optimizer(Adam::new(1e-2))
            .inputs(types(8))
            .steps_per_call(k);
        if offload {
            b.offload_optimizer_state(MemoryKind::PINNED_HOST)
                .compile(loss)
        } else {
            b.compile(loss)
        }
    };
    let mut device = build(false, 1).unwrap();
    let mut offloaded = match build(true, 1) {
        Ok(s) => s,
        Err(e) => {
            // The plugin has the memory but ignores placements: refused before compile.
            assert!(c.plugin().api_version().minor < 115, "{e}");
            let s = e.to_string();
            assert!(
                s.contains("`pinned_host`") && s.contains("not honoured"),
                "{s}"
            );
            return;
        }
    };
    // Where everything lives: parameters on the device, the optimizer state in pinned_host.
    let n_opt = offloaded.optimizer_buffers().len();
    let exe = offloaded.executable().executable();
    let params = exe.parameter_memory_kinds().unwrap();
    let outputs = exe.output_memory_kinds().unwrap();
    let n_weights = model.params().len();
    assert!(
        n_opt > 1 && params.len() == n_weights + n_opt + 2,
        "{params:?}"
    );
    assert!(
        params[..n_weights].iter().all(|k| k == "device"),
        "{params:?}"
    );
    assert!(params[n_weights..n_weights + n_opt]
        .iter()
        .all(|k| k == "pinned_host"));
    assert!(params[n_weights + n_opt..].iter().all(|k| k == "device"));
    assert!(outputs[n_weights..n_weights + n_opt]
        .iter()
        .all(|k| k == "pinned_host"));
    assert!(
        outputs[..n_weights].iter().all(|k| k == "device"),
        "{outputs:?}"
    );
    assert!(offloaded
        .module_text()
        .contains("annotate_device_placement"));

    let data = batches(6, 8);
    for (x, y) in &data {
        let a = device
            .step(&[HostData::from(x), HostData::from(y)])
            .unwrap();
        let b = offloaded
            .step(&[HostData::from(x), HostData::from(y)])
            .unwrap();
        assert_eq!(a.loss().unwrap().to_bits(), b.loss().unwrap().to_bits());
        for buf in offloaded.optimizer_buffers() {
            assert_eq!(buf.memory_kind().unwrap(), "pinned_host");
        }
        for buf in device.optimizer_buffers() {
            assert_eq!(buf.memory_kind().unwrap(), "device");
        }
    }
    // The same parameters and optimizer state, bit for bit, after six steps.
    assert_eq!(
        leaves(&offloaded.model().unwrap()),
        leaves(&device.model().unwrap())
    );
    let (so, sd) = (
        offloaded.optimizer_state().unwrap(),
        device.optimizer_state().unwrap(),
    );
    assert_eq!(so.step, 6);
    assert_eq!(so.step, sd.step);
    for (a, b) in so.slots.iter().zip(&sd.slots) {
        assert_eq!(leaves(a), leaves(b));
    }
    // Training moved the parameters.
    assert_ne!(leaves(&model), leaves(&device.model().unwrap()));

    // Layouts: the state goes in in the executable's parameter layouts and comes back out in
    // the same ones, so the next step takes it as it is (no relayout between steps).
    let l: Layouts = c
        .plugin()
        .extension()
        .expect("the CPU plugins have Layouts");
    let exe = offloaded.executable().executable();
    let param_layouts = l.executable_parameter_layouts(exe).unwrap();
    let output_layouts = l.executable_output_layouts(exe).unwrap();
    let state = offloaded.optimizer_buffers();
    for (i, b) in state.iter().enumerate() {
        let at = n_weights + i;
        let have = l.buffer_layout(b).unwrap().serialize().unwrap();
        assert_eq!(have, param_layouts[at], "optimizer state {i}");
        assert_eq!(output_layouts[at], param_layouts[at], "optimizer state {i}");
    }
    assert_eq!(output_layouts[..n_weights], param_layouts[..n_weights]);

    // Three steps per call, offloaded, equals three single steps.
    let mut many = build(true, 3).unwrap();
    let mut single = build(false, 1).unwrap();
    for (x, y) in &data[..3] {
        single
            .step(&[HostData::from(x), HostData::from(y)])
            .unwrap();
    }
    let x: Vec<f32> = data[..3].iter().flat_map(|(x, _)| x.clone()).collect();
    let y: Vec<i32> = data[..3].iter().flat_map(|(_, y)| y.clone()).collect();
    many.step_many(&[HostData::from(&x), HostData::from(&y)])
        .unwrap();
    for buf in many.optimizer_buffers() {
        assert_eq!(buf.memory_kind().unwrap(), "pinned_host");
    }
    assert_eq!(
        leaves(&many.model().unwrap()),
        leaves(&single.model().unwrap())
    );
}

#[test]
fn offloaded_parameters_train_like_the_all_device_step() {
    let c = Client::default_cpu().unwrap();
    let model = examples::models::mlp().init(&mut nn::seeded(11)).unwrap();
    let build = |params: bool, opt: bool| {
        let mut b = TrainStep::new(&c, model.clone())
            .optimizer(Adam::new(1e-2))
            .inputs(types(8));
        if params {
            b = b.offload_parameters(MemoryKind::PINNED_HOST);
        }
        if opt {
            b = b.offload_optimizer_state(MemoryKind::PINNED_HOST);
        }
        b.compile(loss)
    };
    let mut device = build(false, false).unwrap();
    let (mut params_only, mut both) = match (build(true, false), build(true, true)) {
        (Ok(p), Ok(b)) => (p, b),
        (Err(e), _) | (_, Err(e)) => {
            // Refused before compile, naming the option, the kind and the plugin.
            assert!(c.plugin().api_version().minor < 115, "{e}");
            let s = e.to_string();
            let plugin = c.plugin().path().display().to_string();
            assert!(
                s.contains("TrainStepBuilder::offload_parameters")
                    && s.contains("`pinned_host`")
                    && s.contains("not honoured")
                    && s.contains(&plugin),
                "{s}"
            );
            return;
        }
    };
    // The program declares the weights (and, for `both`, the optimizer state) in pinned_host.
    let n_weights = model.params().len();
    let n_opt = device.optimizer_buffers().len();
    for (step, opt_kind) in [(&params_only, "device"), (&both, "pinned_host")] {
        let exe = step.executable().executable();
        let ins = exe.parameter_memory_kinds().unwrap();
        let outs = exe.output_memory_kinds().unwrap();
        assert_eq!(ins.len(), n_weights + n_opt + 2, "{ins:?}");
        assert!(
            ins[..n_weights].iter().all(|k| k == "pinned_host"),
            "{ins:?}"
        );
        assert!(
            outs[..n_weights].iter().all(|k| k == "pinned_host"),
            "{outs:?}"
        );
        assert!(ins[n_weights..n_weights + n_opt]
            .iter()
            .all(|k| k == opt_kind));
        assert!(outs[n_weights..n_weights + n_opt]
            .iter()
            .all(|k| k == opt_kind));
        assert!(ins[n_weights + n_opt..].iter().all(|k| k == "device"));
    }
    for (x, y) in &batches(5, 8) {
        let batch = [HostData::from(x), HostData::from(y)];
        let want = device.step(&batch).unwrap().loss().unwrap().to_bits();
        for step in [&mut params_only, &mut both] {
            assert_eq!(step.step(&batch).unwrap().loss().unwrap().to_bits(), want);
            assert_eq!(step.parameter_buffers().len(), n_weights);
            for buf in step.parameter_buffers() {
                assert_eq!(buf.memory_kind().unwrap(), "pinned_host");
            }
        }
        for buf in params_only.optimizer_buffers() {
            assert_eq!(buf.memory_kind().unwrap(), "device");
        }
        for buf in both.optimizer_buffers() {
            assert_eq!(buf.memory_kind().unwrap(), "pinned_host");
        }
        for buf in device.parameter_buffers() {
            assert_eq!(buf.memory_kind().unwrap(), "device");
        }
    }
    // The same parameters and optimizer state, bit for bit, after five steps.
    let want = leaves(&device.model().unwrap());
    assert_ne!(leaves(&model), want, "training moved the parameters");
    let sd = device.optimizer_state().unwrap();
    for step in [&params_only, &both] {
        assert_eq!(leaves(&step.model().unwrap()), want);
        let so = step.optimizer_state().unwrap();
        assert_eq!((so.step, sd.step), (5, 5));
        for (a, b) in so.slots.iter().zip(&sd.slots) {
            assert_eq!(leaves(a), leaves(b));
        }
    }
}

#[test]
fn offloading_to_a_memory_the_plugin_lacks_is_an_error_naming_it() {
    let c = Client::default_cpu().unwrap();
    let model = examples::models::mlp().init(&mut nn::seeded(7)).unwrap();
    let e = TrainStep::new(&c, model)
        .optimizer(Adam::new(1e-2))
        .inputs(types(8))
        .offload_optimizer_state(MemoryKind::new("vmem").unwrap())
        .compile(loss)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "train step: TrainStepBuilder::offload_optimizer_state: no memory of kind `vmem` here; the memories are: device, pinned_host, unpinned_host"
    );
}

/// `transpose(x + x)` of an `f32[64, 32]`, its parameter and result layouts as `params` and
/// `result` say.
fn doubled_transpose(params: LayoutMode, result: LayoutMode) -> hlo_builder::Module {
    let mut b = Builder::new("doubled_transpose");
    let x = b.parameter("x", ElementType::F32, [64, 32]).unwrap();
    let t = b.transpose(x, [1, 0]).unwrap();
    let y = b.add(t, t).unwrap();
    let p = Placement::new()
        .parameter_layout(0, params)
        .result_layout(0, result);
    b.build_with_placement(&[y], &[], &p).unwrap()
}

/// The `copy` instructions of an executable's optimized program: what moves data from one
/// layout to another. (A `transpose` whose operand and result layouts make it the same bytes,
/// as below, stays in the program as an instruction but copies nothing.)
fn relayouts(exe: &hlo_builder::Executable) -> Vec<String> {
    crate::remat::strings_of(exe.loaded())
        .into_iter()
        .filter(|s| s == "copy")
        .collect()
}

#[test]
fn compiler_chosen_layouts_are_read_back_and_buffers_in_them_run_without_a_relayout() {
    let c = Client::default_cpu().unwrap();
    let minor = c.plugin().api_version().minor;
    let auto = doubled_transpose(LayoutMode::Auto, LayoutMode::Auto);
    assert_eq!(
        auto.to_text()
            .matches("mhlo.layout_mode = \"auto\"")
            .count(),
        2,
        "{}",
        auto.to_text()
    );
    // Default layouts: the row-major result needs the transpose done in memory (observed on
    // all three plugins: a fusion of add, transpose to {0,1} and a `copy` to {1,0}).
    let fixed = doubled_transpose(LayoutMode::Default, LayoutMode::Default)
        .compile(&c)
        .unwrap();
    assert!(!relayouts(&fixed).is_empty());
    let exe = match auto.compile(&c) {
        Ok(e) => e,
        Err(e) => {
            // 0.81 compiles auto layouts but cannot say which parameter layouts it chose:
            // refused before compile, naming the plugin. Auto result layouts alone work.
            assert!(minor < 106, "{e}");
            let s = e.to_string();
            assert!(
                s.contains("auto) parameter layouts")
                    && s.contains(&c.plugin().path().display().to_string()),
                "{s}"
            );
            let exe = doubled_transpose(LayoutMode::Default, LayoutMode::Auto)
                .compile(&c)
                .unwrap();
            let l: Layouts = c.plugin().extension().unwrap();
            let outs = l
                .executable_output_layouts(exe.loaded().executable())
                .unwrap();
            assert_eq!(outs, ["{0,1}"]);
            assert!(relayouts(&exe).is_empty());
            return;
        }
    };
    // What the compiler chose (observed on 0.106 and 0.115, and for the result on 0.81): the
    // parameter stays row-major ({1,0}, the CPU default) and the result is column-major
    // ({0,1}), so the transpose is a change of layout only: the optimized program is one
    // fusion of add and a transpose from f32[64,32]{1,0} to f32[32,64]{0,1} (the same bytes)
    // with no copy.
    let (params, outs) = exe.layouts().unwrap().unwrap();
    assert_eq!(
        (params.as_slice(), outs.as_slice()),
        (&["{1,0}".to_string()][..], &["{0,1}".to_string()][..])
    );
    assert!(relayouts(&exe).is_empty(), "{:?}", relayouts(&exe));
    // A buffer made from row-major host data has the parameter's layout; repeated calls take
    // it as it is, and every output is in the layout the executable reports.
    let l: Layouts = c.plugin().extension().unwrap();
    let host: Vec<f32> = (0..64 * 32).map(|i| i as f32).collect();
    let x = c.buffer_from_host(&host, &[64, 32]).unwrap();
    assert_eq!(l.buffer_layout(&x).unwrap().serialize().unwrap(), params[0]);
    for _ in 0..3 {
        let out = exe.loaded().execute(&[&x]).unwrap();
        assert_eq!(
            l.buffer_layout(&out[0]).unwrap().serialize().unwrap(),
            outs[0]
        );
        // Element (i, j) of the f32[32, 64] result is 2 x[j, i] = 2 (32 j + i); read out
        // row-major (a host layout, honoured from API 0.106).
        let v = out[0].to_vec::<f32>().unwrap();
        assert_eq!(v[64 * 3 + 5], 2.0 * (32.0 * 5.0 + 3.0));
    }
}
