#!/usr/bin/env bash
# Install the Debian packages the tests need. Does nothing when they are
# already installed.
# - Postfix with Cyrus SASL, for the tests that probe a real Postfix on
#   loopback. Postfix is installed unconfigured: the tests run it from their
#   own configuration directory, never from /etc/postfix.
# - Pango for WeasyPrint's PDF reports, a CJK font so Chinese reports show
#   characters (fonts-wqy-zenhei is much smaller than fonts-noto-cjk), and
#   poppler-utils (pdftoppm, pdftotext) to check the PDF pages.
# - Chromium, which the browser test drives through Python playwright.
set -euo pipefail

packages=(
  postfix sasl2-bin libsasl2-modules
  libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-zenhei poppler-utils
  chromium
  unbound publicsuffix  # loopback DNS server and Public Suffix List for the domain checks
  microsocks  # SOCKS5 server for the proxy (vantage point) tests
  iproute2  # ip, to bring up loopback in the network namespace of the checkdmarc cross-check
  openssl  # s_client, whose output the transcript import tests read
)
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
# Keep apt from starting the services it installs: the system unbound would run a
# recursive resolver on port 53 and fetch DNSSEC trust anchors from the internet.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
  trap '"${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
