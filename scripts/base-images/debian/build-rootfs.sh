#!/usr/bin/env bash
# Builds a slim Debian bookworm root filesystem with debootstrap --variant=minbase, in the
# shape of the official debian:bookworm-slim image: apt sources in deb822 form, docs, man
# pages and locales excluded from dpkg, apt lists and caches removed, no host identity left.
# Run as root by scripts/base-images.sh, which imports the result with `docker import`.
#
#   build-rootfs.sh <rootfs-dir> <mirror-uri> <debian.sources-file>
set -euo pipefail
rootfs="$1" mirror="$2" sources="$3"
suite=bookworm

debootstrap --variant=minbase --components=main --force-check-gpg "$suite" "$rootfs" "$mirror"

# Apt reads the same mirrors as the host, in deb822 form like the official image.
rm -f "$rootfs/etc/apt/sources.list"
install -m 0644 "$sources" "$rootfs/etc/apt/sources.list.d/debian.sources"

# Container-friendly apt and dpkg settings (the ones the official images ship).
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
echo 'force-unsafe-io' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CONF
# Packages must not try to start services while an image is being built.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"

# Slim: what dpkg would now exclude, and everything that only debootstrap needed.
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/*
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/archives/partial/* \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
  "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/var/tmp/* "$rootfs"/root/.bash_history \
  "$rootfs"/debootstrap
# No identity of the build host: Docker provides these files at run time.
: >"$rootfs/etc/resolv.conf"
echo localhost >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
rm -f "$rootfs/etc/machine-id" "$rootfs/var/lib/dbus/machine-id"
