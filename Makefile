# The two commands a new user needs (both install whatever is missing first):
#   make run    train a network on real data on the default CPU plugin
#   make test   the whole test suite, the pjrt suite once per installed CPU plugin
.PHONY: setup run test bench valgrind asan

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
