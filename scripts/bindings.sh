#!/usr/bin/env bash
# Generates the verifier SDK's Kotlin, Swift and Python bindings with the workspace's
# uniffi-bindgen in library mode: the interface is read from the compiled library itself
# (uniffi 0.32 detects a library source by itself; its `--library` flag is deprecated).
#
#   scripts/bindings.sh [out-dir]      default: $CARGO_TARGET_DIR/bindings (or target/bindings)
#
# Writes <out-dir>/{kotlin,swift,python}; the Python directory also gets the cdylib, so it is
# importable as is (`PYTHONPATH=<out-dir>/python python3 -c 'import verifier_sdk'`). Uses the
# debug build (the one the tests already made); release artifacts for apps are built by the
# app pipelines (e.g. `cargo build --release -p verifier-sdk --target aarch64-linux-android`)
# and take the same generated sources.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target="${CARGO_TARGET_DIR:-target}"
out="${1:-$target/bindings}"
case "$(uname -s)" in
    Darwin) lib_name=libverifier_sdk.dylib ;;
    *) lib_name=libverifier_sdk.so ;;
esac

# One workspace-wide build with every target, as `cargo test --workspace` resolves features:
# after the test suite it is a no-op, where `-p verifier-sdk` alone would resolve dependency
# features differently and rebuild a couple of hundred crates.
cargo build -q --workspace --all-targets
lib="$target/debug/$lib_name"
bindgen="$target/debug/uniffi-bindgen"

for lang in kotlin swift python; do
    rm -rf "${out:?}/$lang"
    "$bindgen" generate "$lib" --language "$lang" --out-dir "$out/$lang" >/dev/null
done
cp "$lib" "$out/python/"
echo "bindings: $out/{kotlin,swift,python}"
