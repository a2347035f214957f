#!/usr/bin/env bash
# Runs every test of DaprGame on a fresh Debian machine with the .NET 10 SDK.
# Installs what the tests need when it is missing (redis-server, PostgreSQL); the tests start their own
# servers on free loopback ports and stop them. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  echo "installing ${missing[*]} through apt"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

dotnet build DaprGame.sln -c Debug -nologo -clp:ErrorsOnly
dotnet test --solution DaprGame.sln -c Debug --no-build "$@"
