# Shared set-up for scripts/demo and scripts/test: installs missing Debian packages
# and builds statenet into ./build. Source it; do not run it.

STATENET_PACKAGES=(
  meson ninja-build pkg-config g++
  libluajit-5.1-dev luajit lua-cjson
  libtomlplusplus-dev libfmt-dev libsimdjson-dev libcli11-dev libpugixml-dev
  libsqlitecpp-dev libsqlite3-dev sqlite3 doctest-dev
  zlib1g-dev libzstd-dev zstd
  libpq-dev postgresql
  libcurl4-openssl-dev libcpp-httplib-dev
  help2man bash-completion
  cmake
  python3-dev pybind11-dev python3-transitions
)

# statenet_install_packages [PACKAGE...]: installs those missing (default: STATENET_PACKAGES).
statenet_install_packages() {
  local wanted=("$@")
  [ ${#wanted[@]} -gt 0 ] || wanted=("${STATENET_PACKAGES[@]}")
  local missing=()
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "statenet: installing ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

statenet_build() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  cd "$root"
  if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release -Dwerror=true -Dman=enabled -Dpython=enabled >/dev/null
  fi
  ninja -C build >/dev/null
}
