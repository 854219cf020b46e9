# The two commands a newcomer needs: `make run` (the app, embedded default) and `make test`
# (the whole suite). Everything else here is a convenience around cargo and npm.
.PHONY: run test ui build release bench fmt lint up down

# The all-in-one server on http://127.0.0.1:8000: SQLite in ./data, in-process events, UI served.
run: ui
	cargo run --release -p all_in_one

# The whole test suite; installs and starts what it needs.
test:
	bash dev/test-all.sh

# The web UI as a static export in ui/out (skipped when it is up to date).
ui:
	@if [ -f ui/package.json ]; then bash dev/build-ui.sh; else echo "no ui/ yet: serving the API only"; fi

build:
	cargo build --workspace

release:
	cargo build --release --workspace

bench:
	bash bench/run.sh

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

# The distributed mode as local processes (Kafka, daprd sidecars, PostgreSQL, Redis, gateway).
up:
	bash dev/up.sh

down:
	bash dev/down.sh
