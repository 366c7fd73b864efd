#!/usr/bin/env bash
# Install the Debian packages the tests need: Postfix with Cyrus SASL, for
# the tests that probe a real Postfix on loopback. Does nothing when they are
# already installed. Postfix is installed unconfigured: the tests run it from
# their own configuration directory, never from /etc/postfix.
set -euo pipefail

packages=(postfix sasl2-bin libsasl2-modules)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Debian packages missing: ${missing[*]}; run this script as root" >&2; exit 1; }
  sudo=(sudo)
fi
echo "installing Debian packages: ${missing[*]}" >&2
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
