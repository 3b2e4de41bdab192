#!/bin/sh
# Installs the Debian packages ivm builds with, when they are missing.
# Runs apt-get directly as root, through sudo otherwise.
set -e
missing=""
need() { # need <package> <test command...>
    pkg=$1; shift
    if ! "$@" >/dev/null 2>&1; then missing="$missing $pkg"; fi
}
hdr() { test -f "/usr/include/$1" || test -f "/usr/include/x86_64-linux-gnu/$1"; }
need re2c command -v re2c
need lemon command -v lemon
need libsqlite3-dev hdr sqlite3.h
need sqlite3 command -v sqlite3
need libjemalloc-dev hdr jemalloc/jemalloc.h
need libcmocka-dev hdr cmocka.h
need libedit-dev hdr histedit.h
# `sh scripts/deps.sh fuzz`: what `make fuzz` needs besides (clang and its
# libFuzzer runtime).
if [ "${1:-}" = fuzz ]; then
    fuzzer_rt() { ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a; }
    need clang command -v clang
    need libclang-rt-dev fuzzer_rt
fi
if [ -z "$missing" ]; then exit 0; fi
echo "deps: installing$missing"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
