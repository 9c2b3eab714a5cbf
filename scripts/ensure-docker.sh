#!/usr/bin/env bash
# Makes sure a Docker Engine answers: installs docker.io when the CLI or the daemon is missing,
# starts dockerd when nothing runs it, and waits until it answers. Idempotent.
#
#   scripts/ensure-docker.sh
#
# Environment:
#   FLOTILLA_DOCKER_WAIT   seconds to wait for the daemon to answer (default 60)
#   DOCKER_HOST            when it names a remote engine, this script only checks it
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$here/lib/common.sh"

readonly wait_s="${FLOTILLA_DOCKER_WAIT:-60}"
readonly log_file=/var/log/flotilla-dockerd.log
readonly pid_file=/var/run/docker.pid

engine_version() { timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null; }

if command -v docker >/dev/null 2>&1 && version="$(engine_version)"; then
  log "Docker Engine $version answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}; nothing to do"
  exit 0
fi

case "${DOCKER_HOST:-}" in
  '' | unix://*) ;;
  *) die "DOCKER_HOST=$DOCKER_HOST does not answer; this script only starts a local engine (unset DOCKER_HOST to use one)" ;;
esac

# 1. Packages: docker.io brings the CLI, dockerd, containerd, runc, tini and iptables.
if command -v docker >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1; then
  log "docker CLI and dockerd are installed; nothing to install"
else
  log "installing the Docker Engine from Debian (docker.io)"
  apt_install_missing docker.io
  hash -r
  command -v dockerd >/dev/null 2>&1 || die "docker.io is installed but dockerd is not on PATH ($PATH)"
fi

# 2. The daemon: reuse a running one, let an init system start it, or start it ourselves.
# Prints the pid of a running dockerd, if any (reads /proc: pgrep is not always installed).
dockerd_pid() {
  local comm
  for comm in /proc/[0-9]*/comm; do
    if [ "$(cat "$comm" 2>/dev/null)" = dockerd ]; then
      comm="${comm#/proc/}"
      echo "${comm%/comm}"
      return 0
    fi
  done
  return 1
}
if pid="$(dockerd_pid)" && [ -n "$pid" ]; then
  log "dockerd is already running (pid $pid); not starting another, waiting for it to answer"
elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  log "starting dockerd with systemd (systemctl start docker)"
  as_root systemctl start docker || die "systemctl start docker failed; see: journalctl -u docker"
else
  log "no init system runs dockerd: starting it in the background (log $log_file, pid file $pid_file)"
  as_root bash -c "setsid nohup dockerd --pidfile '$pid_file' >>'$log_file' 2>&1 </dev/null &"
fi

# 3. Wait until it answers.
log "waiting up to ${wait_s}s for the Docker Engine to answer"
deadline=$(($(now_s) + wait_s))
while ! version="$(engine_version)"; do
  if [ "$(now_s)" -ge "$deadline" ]; then
    if [ -S /var/run/docker.sock ] && [ ! -w /var/run/docker.sock ]; then
      die "the Docker Engine runs but /var/run/docker.sock is not writable by $(id -un): run as root or join the 'docker' group"
    fi
    [ -r "$log_file" ] && tail -n 20 "$log_file" >&2
    die "the Docker Engine did not answer within ${wait_s}s (log: $log_file)"
  fi
  if [ -z "$(dockerd_pid)" ] && [ ! -d /run/systemd/system ]; then
    [ -r "$log_file" ] && tail -n 20 "$log_file" >&2
    die "dockerd exited while starting (log: $log_file)"
  fi
  sleep 1
done
log "Docker Engine $version answers"
