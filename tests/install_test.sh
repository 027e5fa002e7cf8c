#!/usr/bin/env bash
# Installs the build into a staging directory (DESTDIR) and builds the host of
# tests/install_hosts against the installed tree as users do: with pkg-config (C++ and
# the C example), with CMake's find_package, and as a meson subproject of a tiny meson
# project. Every host runs a workflow. Also checks the installed library: its SONAME and
# that it exports statenet's symbols only.
# Arguments: SOURCE_DIR BUILD_DIR PREFIX LIBDIR INCLUDEDIR DATADIR VERSION SOVERSION
set -euo pipefail
source_dir=$1 build_dir=$2 prefix=$3 libdir=$4 includedir=$5 datadir=$6 version=$7 soversion=$8
hosts=$source_dir/tests/install_hosts
work=$(mktemp -d "${TMPDIR:-/tmp}/statenet_install.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
# Runs a command quietly; on failure shows its output.
quiet() {
  local log=$work/step.log
  "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "$*"; }
}
for tool in pkg-config cmake c++ cc readelf nm; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup.sh installs it)"
done

quiet meson install -C "$build_dir" --destdir "$work/stage" --no-rebuild
stage=$work/stage$prefix
lib=$stage/$libdir
stdlib=$stage/$datadir/statenet/stdlib
[ -f "$stdlib/statenet/runtime.lua" ] || fail "no stdlib installed in $stdlib"

# --- the shared library: SONAME and exports
soname=$(readelf -d "$lib/libstatenet.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libstatenet.so.$soversion" ] || fail "SONAME is '$soname', expected libstatenet.so.$soversion"
[ -e "$lib/libstatenet.so.$soversion" ] || fail "no $lib/libstatenet.so.$soversion link"
nm -D --defined-only -C "$lib/libstatenet.so" | cut -d' ' -f3- >"$work/exports"
grep -q '^statenet_process$' "$work/exports" || fail "the C ABI is not exported"
grep -q '^statenet::Engine::Engine(' "$work/exports" || fail "the C++ API is not exported"
grep -q '^typeinfo for statenet::LoadError$' "$work/exports" || fail "LoadError's type_info is not exported"
foreign=$(grep -v -E '^((typeinfo( name)? for |vtable for |VTT for |(non-)?virtual thunk to )?statenet::|statenet_)' \
  "$work/exports" || true)
[ -z "$foreign" ] || fail "libstatenet exports symbols that are not statenet's:
$(head -20 <<<"$foreign")"

# The hosts' expected output for the workflow: a record that passes, and one that fails.
workflow=$hosts/check.toml
record='{"id": 1, "amount": 250, "email": "  Ann@Example.COM "}'
expected="statenet $version: ok main/big {\"id\":1,\"amount\":250,\"email\":\"ann@example.com\",\"route\":\"priority\"}"
bad_record='{"id": 2, "amount": -5}'
bad_expected="statenet $version: failed main/intake ValidationFailed"
# check_host NAME HOST [ENV...]: the host prints the expected lines
check_host() {
  local name=$1 host=$2 out code
  shift 2
  out=$(env "$@" "$host" "$workflow" "$record" 2>&1) || fail "$name host: $out"
  [ "$out" = "$expected" ] || fail "$name host printed '$out', expected '$expected'"
  set +e
  out=$(env "$@" "$host" "$workflow" "$bad_record" 2>&1)
  code=$?
  set -e
  [ "$code" -eq 1 ] && [ "$out" = "$bad_expected" ] || fail "$name host (bad record, exit $code) printed '$out'"
  echo "ok: $name host"
}
installed_env=("LD_LIBRARY_PATH=$lib" "STATENET_STDLIB=$stdlib")

# --- pkg-config: statenet's headers and -lstatenet, nothing of its dependencies
export PKG_CONFIG_SYSROOT_DIR=$work/stage PKG_CONFIG_LIBDIR=$lib/pkgconfig
[ "$(pkg-config --modversion statenet)" = "$version" ] || fail "pkg-config --modversion: $(pkg-config --modversion statenet)"
cflags=$(pkg-config --cflags statenet)
libs=$(pkg-config --libs statenet)
[ "$(echo $cflags)" = "-I$stage/$includedir" ] || fail "pkg-config --cflags gives '$cflags'"
[ "$(echo $libs)" = "-L$lib -lstatenet" ] || fail "pkg-config --libs gives '$libs'"
requires=$(pkg-config --print-requires --print-requires-private statenet)
[ -z "$requires" ] || fail "statenet.pc requires '$requires'"
mkdir "$work/pc"
# The public headers include none of the engine's dependencies.
# shellcheck disable=SC2086
c++ -std=c++20 $cflags -M "$hosts/host.cpp" >"$work/pc/deps"
leaks=$(tr ' \\' '\n\n' <"$work/pc/deps" | grep -E 'toml\+\+|luajit|lua\.h|lauxlib|simdjson|SQLiteCpp|sqlite3|/fmt/|/CLI/|curl/|libpq|zstd|zlib' || true)
[ -z "$leaks" ] || fail "the public headers include dependencies' headers: $leaks"
# shellcheck disable=SC2086
quiet c++ -std=c++20 $cflags "$hosts/host.cpp" -o "$work/pc/host" $libs
readelf -d "$work/pc/host" | grep -q "Shared library: \[libstatenet.so.$soversion\]" ||
  fail "the host does not record libstatenet.so.$soversion as needed"
check_host pkg-config "$work/pc/host" "${installed_env[@]}"
# The C ABI from C11, the same flags.
# shellcheck disable=SC2086
quiet cc -std=c11 $cflags "$source_dir/examples/c-host/main.c" -o "$work/pc/c_host" $libs
out=$(env "${installed_env[@]}" "$work/pc/c_host" "$workflow" "$record" 2>&1) || fail "C host: $out"
grep -q '"ok":true' <<<"$out" && grep -q '"route":"priority"' <<<"$out" || fail "C host printed '$out'"
echo "ok: pkg-config C host"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

# --- CMake: find_package(statenet) and the imported target statenet::statenet
mkdir "$work/cmake"
cp "$hosts/CMakeLists.txt" "$hosts/host.cpp" "$work/cmake/"
quiet cmake -S "$work/cmake" -B "$work/cmake/build" -DCMAKE_PREFIX_PATH="$stage" \
  -DSTATENET_EXPECTED_VERSION="$version" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
grep -q "statenet $version, stdlib $stdlib" "$work/step.log" || fail "CMake found another statenet: $(cat "$work/step.log")"
quiet cmake --build "$work/cmake/build"
check_host CMake "$work/cmake/build/host" "${installed_env[@]}"

# --- meson subproject: the source tree under subprojects/, built for the host only
mkdir -p "$work/meson/subprojects"
cp "$hosts/meson.build" "$hosts/host.cpp" "$work/meson/"
ln -s "$source_dir" "$work/meson/subprojects/statenet"
quiet meson setup "$work/meson/build" "$work/meson" --buildtype=plain
meson introspect --targets "$work/meson/build" >"$work/meson/targets.json"
grep -q '"name": "statenet"' "$work/meson/targets.json" || fail "the subproject has no statenet library target"
built=$(grep -o -E '"name": "(statenet_tests|capi_test|embed_example|c_host|process_latency|gen_records)"' \
  "$work/meson/targets.json" || true)
[ -z "$built" ] || fail "the subproject builds statenet's tests, examples or benchmarks: $built"
quiet ninja -C "$work/meson/build" -j "$(nproc)" host
# Uninstalled, the library falls back to the stdlib of the source tree it was built from.
check_host "meson subproject" "$work/meson/build/host" -u STATENET_STDLIB
