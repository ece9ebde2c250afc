#!/usr/bin/env bash
# Installs the built nexdb into a temporary prefix, then builds and runs a consumer against it
# through find_package (CMake) and through pkg-config.
set -euo pipefail
build=$1
source_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer"
pc_path="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig"
flags=$(PKG_CONFIG_PATH="$pc_path" pkg-config --cflags --libs nexdb)
g++ "$source_dir/main.cpp" -o "$work/pc-consumer" $flags
echo "pkg-config build:"
"$work/pc-consumer"
