# The two commands a new user needs (both install whatever is missing first):
#   make run    train a network on real data on the default CPU plugin
#   make test   the whole test suite, the pjrt suite once per installed CPU plugin
.PHONY: setup run test bench valgrind asan mpi

setup:
	@bash scripts/setup.sh

run: setup
	cargo run --release --example train_digits
	cargo run --release --example predict

test: setup
	@bash scripts/test.sh

bench: setup
	cargo bench -p benches -p hlo-builder -p hlo-autodiff

valgrind: setup
	@bash scripts/valgrind.sh

asan: setup
	@bash scripts/asan.sh

# Data-parallel training of the digits MLP in NP processes (2 by default) on this machine,
# the gradients all-reduced by MPI inside each step; every transport on the loopback interface.
NP ?= 2
mpi: setup
	cargo build --release --example mpi_digits --features examples/mpi
	OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np $(NP) --oversubscribe \
	    --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo target/release/examples/mpi_digits
