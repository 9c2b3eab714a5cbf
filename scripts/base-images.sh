#!/usr/bin/env bash
# Makes sure the base images that examples and tests use exist under their usual names, so
# compose files stay standard:
#   debian:bookworm-slim                       debootstrap --variant=minbase, docker import
#   node:20-bookworm-slim (also node:20-slim)  the host's Node 20 binary on debian:bookworm-slim
#   node:18-bookworm-slim (also node:18-slim)  Debian's own nodejs package (Node 18) on debian:bookworm-slim
#   postgres:15-bookworm  (also postgres:15)   Debian's postgresql-15 on debian:bookworm-slim
# A missing image is pulled first (short timeout); only when that fails is it built here.
# Images built here carry the label dev.flotilla.base-image=true and a hash of their recipe;
# a later run rebuilds one when its recipe changed, and otherwise does nothing. Idempotent.
#
#   scripts/base-images.sh
#
# Environment:
#   FLOTILLA_BASE_IMAGES_PULL=0        never try the registry (build whatever is missing)
#   FLOTILLA_PULL_TIMEOUT              seconds per pull attempt (default 20)
#   FLOTILLA_DEBIAN_MIRROR             Debian mirror (default: from the host's apt sources)
#   FLOTILLA_DEBIAN_SECURITY_MIRROR    Debian security mirror (default: from the apt sources)
#   FLOTILLA_NODE_BIN                  the Node 20 binary to copy (default /usr/bin/node)
#   FLOTILLA_VERBOSE=1                 stream build output instead of writing it to a log file
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$here/lib/common.sh"

readonly recipes="$here/base-images"
readonly label=dev.flotilla.base-image
readonly suite=bookworm
readonly pull_timeout="${FLOTILLA_PULL_TIMEOUT:-20}"
try_pull="${FLOTILLA_BASE_IMAGES_PULL:-1}"
# The legacy builder is in every engine we meet; BuildKit needs the buildx plugin.
export DOCKER_BUILDKIT=0

work="$(mktemp -d "${TMPDIR:-/tmp}/flotilla-base-images.XXXXXX")"
rootfs=""
cleanup() {
  if [ -n "$rootfs" ] && [ -d "$rootfs" ]; then
    # debootstrap mounts proc and sys inside the rootfs; a failed run can leave them mounted.
    local m
    awk -v r="$rootfs" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
      as_root umount -l "$m" || true
    done
    as_root rm -rf --one-file-system "$rootfs"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

summary=()
note() { summary+=("$(printf '%-24s %s' "$1" "$2")"); }

# --- Docker --------------------------------------------------------------------------------

if ! timeout 10 docker version >/dev/null 2>&1; then
  log "the Docker Engine does not answer: running scripts/ensure-docker.sh"
  "$here/ensure-docker.sh"
fi

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
image_label() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect --format '{{.Id}}' "$1"; }

# --- Recipes -------------------------------------------------------------------------------

# A short hash of a recipe directory plus any extra inputs given as arguments.
recipe_hash() {
  local dir="$1"
  shift
  {
    (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-16
}

# Debian mirrors from the host's apt sources (deb822 *.sources and one-line *.list files).
# Prints "suite uri" pairs.
apt_source_pairs() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no")
          for (i = 1; i <= ns; i++) for (j = 1; j <= nu; j++) print s[i], u[j]
        types = ""; enabled = ""; ns = 0; nu = 0; field = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { if (field == "uris") { n = split($0, more); for (k = 1; k <= n; k++) u[++nu] = more[k] } next }
      {
        key = tolower($1); sub(/:$/, "", key); field = key
        $1 = ""
        if (key == "types") types = $0
        else if (key == "enabled") enabled = tolower($2)
        else if (key == "uris") nu = split($0, u)
        else if (key == "suites") ns = split($0, s)
      }
      END { flush() }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    # deb [options] uri suite components...
    sed -E -n 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+).*/\3 \2/p' "$f"
  done
}

mirror_for() {
  apt_source_pairs 2>/dev/null | awk -v s="$1" '$1 == s && !found { print $2; found = 1 }'
}

debian_mirror="${FLOTILLA_DEBIAN_MIRROR:-$(mirror_for "$suite")}"
debian_mirror="${debian_mirror:-http://deb.debian.org/debian}"
security_mirror="${FLOTILLA_DEBIAN_SECURITY_MIRROR:-$(mirror_for "$suite-security")}"
security_mirror="${security_mirror:-http://deb.debian.org/debian-security}"
case "$debian_mirror $security_mirror" in
  *https://*) warn "an https mirror needs ca-certificates inside the image; containers here may fail to verify it" ;;
esac

sources_file="$work/debian.sources"
cat >"$sources_file" <<EOF
Types: deb
URIs: ${debian_mirror%/}
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${security_mirror%/}
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

# --- One image -----------------------------------------------------------------------------

# ensure_image REF RECIPE_HASH BUILD_FUNCTION [ALIAS...]
ensure_image() {
  local ref="$1" hash="$2" build="$3"
  shift 3
  local aliases=("$@") started reason="" old_id=""

  if image_exists "$ref"; then
    if [ "$(image_label "$ref" "$label")" = true ] && [ "$(image_label "$ref" "$label.recipe")" != "$hash" ]; then
      reason="its recipe changed"
      old_id="$(image_id "$ref")"
    else
      tag_aliases "$ref" "${aliases[@]}"
      log "$ref is present; nothing to do"
      note "$ref" "present"
      return 0
    fi
  fi

  if [ -z "$reason" ] && [ "$try_pull" = 1 ]; then
    log "$ref is missing: trying docker pull (timeout ${pull_timeout}s)"
    started=$(now_s)
    if timeout "$pull_timeout" docker pull -q "$ref" >&2 2>"$work/pull.err"; then
      tag_aliases "$ref" "${aliases[@]}"
      log "$ref pulled in $(fmt_duration $(($(now_s) - started)))"
      note "$ref" "pulled in $(fmt_duration $(($(now_s) - started)))"
      return 0
    fi
    # Every image comes from the same registry: one failure is enough to stop asking.
    log "pull failed ($(head -c 200 "$work/pull.err" | tr '\n' ' ')); building locally from now on"
    try_pull=0
  fi

  log "building $ref locally (${reason:-it is missing})"
  started=$(now_s)
  "$build" "$ref" "$hash" "${aliases[@]}"
  tag_aliases "$ref" "${aliases[@]}"
  # The image this one replaces, now untagged; kept while a container still uses it.
  if [ -n "$old_id" ] && [ "$old_id" != "$(image_id "$ref")" ] && docker rmi "$old_id" >/dev/null 2>&1; then
    log "removed the image it replaces (${old_id#sha256:})"
  fi
  log "$ref built in $(fmt_duration $(($(now_s) - started)))"
  note "$ref" "built in $(fmt_duration $(($(now_s) - started)))"
}

# Tags aliases of REF, leaving alone an alias that names an image we did not build.
tag_aliases() {
  local ref="$1" alias
  shift
  for alias in "$@"; do
    if image_exists "$alias" && [ "$(image_label "$alias" "$label")" != true ]; then
      [ "$(image_id "$alias")" = "$(image_id "$ref")" ] || log "$alias exists and was not built here; leaving it"
      continue
    fi
    if ! image_exists "$alias" || [ "$(image_id "$alias")" != "$(image_id "$ref")" ]; then
      docker tag "$ref" "$alias"
      log "tagged $alias"
    fi
  done
}

# docker_build REF HASH CONTEXT [ALIAS...] [-- BUILD_ARGS...]
docker_build() {
  local ref="$1" hash="$2" context="$3"
  shift 3
  local tags=(-t "$ref") args=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do tags+=(-t "$1"); shift; done
  if [ "$#" -gt 0 ]; then shift; args=("$@"); fi
  local name="${ref%%:*}"
  log "docker build $ref"
  if ! run_logged "${TMPDIR:-/tmp}/flotilla-$name-build.log" docker build --pull=false --rm --force-rm \
    --label "$label=true" --label "$label.recipe=$hash" --label "$label.name=$ref" \
    "${tags[@]}" "${args[@]}" "$context"; then
    die "building $ref failed"
  fi
}

# --- debian:bookworm-slim ------------------------------------------------------------------

build_debian() {
  local ref="$1" hash="$2"
  apt_install_missing debootstrap debian-archive-keyring
  rootfs="$(as_root mktemp -d /var/tmp/flotilla-rootfs.XXXXXX)"
  log "debootstrap --variant=minbase $suite from $debian_mirror (about a minute)"
  run_logged "${TMPDIR:-/tmp}/flotilla-debootstrap.log" as_root "$recipes/debian/build-rootfs.sh" "$rootfs" "$debian_mirror" "$sources_file" ||
    die "debootstrap failed"
  log "docker import $ref ($(as_root du -sh "$rootfs" | cut -f1) root filesystem)"
  as_root tar -C "$rootfs" --numeric-owner --xattrs --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["bash"]' \
      --change "LABEL $label=true $label.recipe=$hash $label.name=$ref" \
      --message "debootstrap --variant=minbase $suite $debian_mirror" \
      - "$ref" >/dev/null
  as_root rm -rf --one-file-system "$rootfs"
  rootfs=""
}

# --- node:20-bookworm-slim -----------------------------------------------------------------

node_bin="${FLOTILLA_NODE_BIN:-/usr/bin/node}"
[ -x "$node_bin" ] || node_bin="$(command -v node || true)"

# Prints why the host's node cannot go into node:20-bookworm-slim, if it cannot: it must be
# Node 20 and need nothing beyond glibc and libstdc++ (true of the official builds).
node_bin_problem() {
  if [ -z "$node_bin" ] || [ ! -x "$node_bin" ]; then
    echo "no Node binary at /usr/bin/node nor on PATH (set FLOTILLA_NODE_BIN)"
    return
  fi
  local version extra
  version="$("$node_bin" --version 2>/dev/null || echo unknown)"
  case "$version" in
    v20.*) ;;
    *) echo "$node_bin is Node $version, not Node 20 (set FLOTILLA_NODE_BIN)"; return ;;
  esac
  extra="$(ldd "$node_bin" | awk '{ print $1 }' |
    grep -Ev '^(linux-vdso|/lib64/ld-linux-x86-64|/lib/ld-linux-aarch64|libc|libstdc\+\+|libm|libgcc_s|libdl|libpthread|librt)\.so' || true)"
  if [ -n "$extra" ]; then
    echo "$node_bin links to libraries that debian:bookworm-slim lacks: $(echo "$extra" | tr '\n' ' ')(an official Node 20 build does not)"
  fi
}

build_node() {
  local ref="$1" hash="$2"
  shift 2
  local context="$work/node-context"
  mkdir -p "$context"
  cp -a "$recipes/node/." "$context/"
  cp "$(readlink -f "$node_bin")" "$context/node"
  docker_build "$ref" "$hash" "$context" "$@" -- --build-arg "NODE_VERSION=$("$node_bin" --version | sed 's/^v//')"
}

# --- node:18-bookworm-slim -----------------------------------------------------------------

# Debian bookworm's `nodejs` package is Node 18: installed with apt inside the image, from
# the same mirrors as the host, over HTTP. The Dockerfile fails unless it is Node 18.
build_node18() {
  local ref="$1" hash="$2"
  shift 2
  local context="$work/node18-context"
  mkdir -p "$context"
  cp -a "$recipes/node18/." "$context/"
  cp "$sources_file" "$context/debian.sources"
  log "apt-get install nodejs (Node 18) inside the image, from $debian_mirror (under a minute, unless Docker has the layer cached)"
  docker_build "$ref" "$hash" "$context" "$@"
}

# --- postgres:15-bookworm ------------------------------------------------------------------

build_postgres() {
  local ref="$1" hash="$2"
  shift 2
  local context="$work/postgres-context"
  mkdir -p "$context"
  cp -a "$recipes/postgres/." "$context/"
  cp "$sources_file" "$context/debian.sources"
  log "apt-get install postgresql-15 inside the image, from $debian_mirror (a minute or two, unless Docker has the layer cached)"
  docker_build "$ref" "$hash" "$context" "$@"
}

# --- Main ----------------------------------------------------------------------------------

all_started=$(now_s)
log "Debian mirrors: $debian_mirror, $security_mirror"

ensure_image debian:bookworm-slim "$(recipe_hash "$recipes/debian" "$debian_mirror" "$security_mirror")" build_debian
debian_id="$(image_id debian:bookworm-slim)"

node_problem="$(node_bin_problem)"
if [ -z "$node_problem" ]; then
  node_sum="$(sha256sum "$(readlink -f "$node_bin")" | cut -c1-16)"
  ensure_image node:20-bookworm-slim "$(recipe_hash "$recipes/node" "$debian_id" "$node_sum")" build_node node:20-slim
elif image_exists node:20-bookworm-slim; then
  warn "$node_problem; keeping the existing node:20-bookworm-slim"
  note node:20-bookworm-slim "present (host node not usable to rebuild it)"
else
  die "cannot build node:20-bookworm-slim: $node_problem"
fi

ensure_image node:18-bookworm-slim "$(recipe_hash "$recipes/node18" "$debian_id" "$debian_mirror" "$security_mirror")" build_node18 node:18-slim

ensure_image postgres:15-bookworm "$(recipe_hash "$recipes/postgres" "$debian_id" "$debian_mirror" "$security_mirror")" build_postgres postgres:15

log "base images ready in $(fmt_duration $(($(now_s) - all_started))):"
printf '  %s\n' "${summary[@]}" >&2
