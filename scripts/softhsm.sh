#!/usr/bin/env bash
# Makes sure SoftHSM2 (a software PKCS#11 token) is installed and prints its module path.
#
#   bash scripts/softhsm.sh          # installs softhsm2 if missing, prints the module path
#
# Idempotent: when `softhsm2-util` and the module are already present nothing is installed.
# Installation uses Debian's packages (`apt-get update -qq` once, then
# `apt-get install -y -qq softhsm2`) and needs root (or sudo without a password).
#
# The custody crate's PKCS#11 tests create their own throw-away token in a temporary directory
# (SOFTHSM2_CONF pointing to a temporary config); this script does not create tokens and does
# not touch /etc/softhsm or /var/lib/softhsm.
#
# Exit status: 0 with the module path on stdout; non-zero with a message on stderr.
set -euo pipefail

# Usual module locations (Debian/Ubuntu multiarch first, then the generic ones).
find_module() {
    local arch=""
    if command -v dpkg-architecture >/dev/null 2>&1; then
        arch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)"
    elif command -v gcc >/dev/null 2>&1; then
        arch="$(gcc -print-multiarch 2>/dev/null || true)"
    fi
    local candidates=()
    [ -n "${SOFTHSM2_MODULE:-}" ] && candidates+=("$SOFTHSM2_MODULE")
    [ -n "$arch" ] && candidates+=("/usr/lib/$arch/softhsm/libsofthsm2.so")
    candidates+=(
        /usr/lib/softhsm/libsofthsm2.so
        /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
        /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so
        /usr/lib64/softhsm/libsofthsm2.so
        /usr/lib64/pkcs11/libsofthsm2.so
        /usr/lib/pkcs11/libsofthsm2.so
        /usr/local/lib/softhsm/libsofthsm2.so
    )
    local c
    for c in "${candidates[@]}"; do
        if [ -f "$c" ]; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    return 1
}

if command -v softhsm2-util >/dev/null 2>&1 && module="$(find_module)"; then
    printf '%s\n' "$module"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "softhsm.sh: SoftHSM2 is not installed and apt-get is not available on this machine." >&2
    echo "softhsm.sh: install SoftHSM2 (package 'softhsm2', 'softhsm' or 'softhsm2-devel') with" >&2
    echo "softhsm.sh: your package manager, then run this script again." >&2
    exit 2
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "softhsm.sh: installing softhsm2 needs root; run as root or with passwordless sudo." >&2
        exit 2
    fi
fi

echo "softhsm.sh: installing softhsm2 with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
${SUDO[@]+"${SUDO[@]}"} apt-get update -qq >&2
${SUDO[@]+"${SUDO[@]}"} apt-get install -y -qq softhsm2 >&2

if ! command -v softhsm2-util >/dev/null 2>&1; then
    echo "softhsm.sh: softhsm2 was installed but softhsm2-util is not on PATH" >&2
    exit 1
fi
if ! module="$(find_module)"; then
    echo "softhsm.sh: softhsm2 was installed but libsofthsm2.so was not found" >&2
    exit 1
fi
printf '%s\n' "$module"
