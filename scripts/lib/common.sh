# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; it defines functions only.
# Progress goes to stderr so that stdout stays free for data.

# The name shown in front of every progress line (the calling script's name).
FLOTILLA_SCRIPT_NAME="$(basename "${BASH_SOURCE[1]:-$0}" .sh)"

log() { printf '[%s] %s\n' "$FLOTILLA_SCRIPT_NAME" "$*" >&2; }
warn() { printf '[%s] warning: %s\n' "$FLOTILLA_SCRIPT_NAME" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$FLOTILLA_SCRIPT_NAME" "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@" || die "'$*' needs root; sudo -n refused (run as root, or allow passwordless sudo)"
  else
    die "'$*' needs root, and sudo is not installed"
  fi
}

# Runs a long, chatty command with its output in LOGFILE (streamed to stderr instead with
# FLOTILLA_VERBOSE=1); on failure shows the end of the log and keeps it.
run_logged() {
  local logfile="$1"
  shift
  if [ "${FLOTILLA_VERBOSE:-0}" = 1 ]; then
    "$@" >&2
    return
  fi
  if ! "$@" >"$logfile" 2>&1; then
    tail -n 30 "$logfile" >&2
    warn "failed: $* (full log: $logfile)"
    return 1
  fi
  rm -f "$logfile"
}

# apt-get update, at most once per run, and not when the lists are less than an hour old
# (setup.sh runs several scripts that may each need a package).
_FLOTILLA_APT_UPDATED=0
apt_update_once() {
  [ "$_FLOTILLA_APT_UPDATED" -eq 0 ] || return 0
  _FLOTILLA_APT_UPDATED=1
  if [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 2>/dev/null | head -n 1)" ]; then
    log "apt lists are less than an hour old; skipping apt-get update"
    return 0
  fi
  log "apt-get update"
  run_logged "${TMPDIR:-/tmp}/flotilla-apt-update.log" as_root env DEBIAN_FRONTEND=noninteractive apt-get update \
    || die "apt-get update failed (is the Debian mirror in /etc/apt/sources.list* reachable?)"
}

# Installs the given Debian packages that are not installed yet; says so when all are.
apt_install_missing() {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "Debian packages already installed: $*"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get to install them: this script expects Debian"
  apt_update_once
  log "apt-get install ${missing[*]}"
  run_logged "${TMPDIR:-/tmp}/flotilla-apt-install.log" \
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
}

# Prints seconds since the epoch (for step timings).
now_s() { date +%s; }

# Formats a duration in seconds as "1m 05s" or "12s".
fmt_duration() {
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%dm %02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}
