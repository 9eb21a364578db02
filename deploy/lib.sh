# Shared by the deploy scripts (source it): install a Debian package when its command is missing.
#   install_debian_package COMMAND PACKAGE WHAT
# Uses the caller's `say` and `fail`. apt-get's lists are refreshed once per process.
install_debian_package() {
  local command=$1 package=$2 what=$3
  command -v "$command" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || fail "$what is missing and there is no apt-get to install it; install Debian's '$package' or equivalent and rerun"
  [ "$(id -u)" = 0 ] || fail "$what is missing and installing Debian's '$package' needs root"
  say "installing Debian's $package ($what)"
  if [ -z "${SANDFARM_APT_UPDATED:-}" ]; then
    apt-get update -qq
    export SANDFARM_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
}
