#!/usr/bin/env bash
# Generates the verifier and wallet SDKs' Kotlin, Swift and Python bindings with the workspace's
# uniffi-bindgen in library mode: the interface is read from the compiled library itself
# (uniffi 0.32 detects a library source by itself; its `--library` flag is deprecated).
#
#   scripts/bindings.sh [out-dir]      default: $CARGO_TARGET_DIR/bindings (or target/bindings)
#
# Writes <out-dir>/{kotlin,swift,python} for the verifier SDK; the Python directory also gets the
# cdylib, so it is importable as is (`PYTHONPATH=<out-dir>/python python3 -c 'import verifier_sdk'`).
# The wallet SDK's library carries the verifier SDK too (its TrustStore is the wallet's), so its
# bindings, from libwallet_sdk, hold both modules: <out-dir>/wallet/{kotlin,swift} and the
# Python package <out-dir>/wallet/python/mdoc_wallet (`from mdoc_wallet import wallet_sdk,
# verifier_sdk`; the generated wallet module imports its sibling relatively). Uses the
# debug build (the one the tests already made); release artifacts for apps are built by the
# app pipelines (e.g. `cargo build --release -p verifier-sdk --target aarch64-linux-android`)
# and take the same generated sources.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target="${CARGO_TARGET_DIR:-target}"
out="${1:-$target/bindings}"
case "$(uname -s)" in
    Darwin) ext=dylib ;;
    *) ext=so ;;
esac

# One workspace-wide build with every target, as `cargo test --workspace` resolves features:
# after the test suite it is a no-op, where `-p verifier-sdk` alone would resolve dependency
# features differently and rebuild a couple of hundred crates.
cargo build -q --workspace --all-targets
bindgen="$target/debug/uniffi-bindgen"

lib="$target/debug/libverifier_sdk.$ext"
for lang in kotlin swift python; do
    rm -rf "${out:?}/$lang"
    "$bindgen" generate "$lib" --language "$lang" --out-dir "$out/$lang" >/dev/null
done
cp "$lib" "$out/python/"

lib="$target/debug/libwallet_sdk.$ext"
rm -rf "${out:?}/wallet"
for lang in kotlin swift; do
    "$bindgen" generate "$lib" --language "$lang" --out-dir "$out/wallet/$lang" >/dev/null
done
package="$out/wallet/python/mdoc_wallet"
"$bindgen" generate "$lib" --language python --out-dir "$package" >/dev/null
touch "$package/__init__.py"
cp "$lib" "$package/"
echo "bindings: $out/{kotlin,swift,python}, $out/wallet/{kotlin,swift,python}"
