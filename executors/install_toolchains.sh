#!/usr/bin/env bash
# Install the system-level toolchains that HumanEvalPack execution needs. Debian/Ubuntu; idempotent.
#
#   sudo bash executors/install_toolchains.sh
#
# Installs what is missing: bubblewrap (the sandbox), g++ + libboost-dev + libssl-dev (C++), Node.js + npm (JS),
# a JDK >= 16 (Java), Go >= 1.21 (official tarball into /usr/local/go; Debian's golang-go is too old) and Rust
# (rustup, minimal profile). It installs nothing per language beyond that: js-md5, the Rust crates, the Go
# testify module and the C++ precompiled header are built into the cache by `lm-eval-octopack setup`
# (lm_eval_octopack.executors.prepare). Used by .ci/run and executors/Dockerfile.
set -euo pipefail

GO_VERSION="${GO_VERSION:-1.22.12}"
MIN_GO_MINOR=21

have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
log() { printf '[install_toolchains] %s\n' "$*"; }

go_is_recent() {
    local go_bin
    go_bin="$(command -v go || true)"
    [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
    [ -n "$go_bin" ] || return 1
    local minor
    minor="$("$go_bin" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
    [ -n "$minor" ] && [ "$minor" -ge "$MIN_GO_MINOR" ]
}

install_apt_packages() {
    local packages=(bubblewrap ca-certificates curl util-linux g++ libboost-dev libssl-dev)
    have node || packages+=(nodejs)
    have npm || packages+=(npm)
    have javac || packages+=(default-jdk-headless)
    local missing=()
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "apt packages already present"
        return
    fi
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_go() {
    if go_is_recent; then
        log "Go >= 1.${MIN_GO_MINOR} already present"
        return
    fi
    local arch
    case "$(uname -m)" in
        x86_64) arch=amd64 ;;
        aarch64) arch=arm64 ;;
        *) log "no Go tarball for $(uname -m); install Go >= 1.${MIN_GO_MINOR} by hand"; return 1 ;;
    esac
    log "installing Go ${GO_VERSION} into /usr/local/go"
    curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-${arch}.tar.gz" -o /tmp/go.tar.gz
    as_root rm -rf /usr/local/go
    as_root tar -C /usr/local -xzf /tmp/go.tar.gz
    rm -f /tmp/go.tar.gz
    as_root ln -sf /usr/local/go/bin/go /usr/local/bin/go
    as_root ln -sf /usr/local/go/bin/gofmt /usr/local/bin/gofmt
}

install_rust() {
    if have cargo || [ -x "$HOME/.cargo/bin/cargo" ]; then
        log "Rust already present"
        return
    fi
    log "installing Rust (rustup, stable, minimal profile) into $HOME/.cargo"
    curl -fsSL https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain stable --no-modify-path
}

check_java_version() {
    local major
    major="$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')"
    if [ -n "$major" ] && [ "$major" -lt 16 ]; then
        log "WARNING: javac ${major} found; HumanEvalPack Java needs >= 16 (apt-get install openjdk-17-jdk-headless)"
    fi
}

install_apt_packages
install_go
install_rust
check_java_version
log "done. Next: lm-eval-octopack setup   (prepares the per-language dependencies in the cache)"
