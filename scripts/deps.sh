#!/usr/bin/env bash
# Install what qtools needs to build, test and demo on a fresh Debian/Ubuntu machine:
# a Rust toolchain (must already be there), MariaDB (server + client), GNU parallel, curl,
# from the system package manager when missing. Says what it installs; silent when nothing is missing.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

if ! have cargo; then
    echo "deps: cargo not found: install Rust first (https://rustup.rs)" >&2
    exit 2
fi

missing=()
have mariadbd || have mysqld || missing+=(mariadb-server)
have mariadb-install-db || have mysql_install_db || missing+=(mariadb-server)
have mariadb || have mysql || missing+=(mariadb-client)
have mariadb-admin || have mysqladmin || missing+=(mariadb-client)
# GNU parallel: the tests run the fan-out recipes of docs/parallel.md with it.
have parallel || missing+=(parallel)
# man: the tests render the installed man pages (scripts/install.sh).
have man || missing+=(man-db)
# openssl: the TLS tests make X.509 version 1 certificates as MariaDB's documentation does.
have openssl || missing+=(openssl)
# curl: the tests fetch qexport --serve's URLs with it (and python3 reads them).
have curl || missing+=(curl)
have python3 || missing+=(python3)

if [ ${#missing[@]} -gt 0 ]; then
    pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
    echo "deps: installing ${pkgs}(apt-get)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $pkgs >&2
fi
