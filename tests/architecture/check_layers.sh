#!/usr/bin/env bash
# The one-way dependency arrows, checked on the sources: a module may include only the headers
# and libraries its layer allows. CMake's link lines enforce the same at link time; this catches
# header-only uses (Asio, nlohmann) and system headers that are on every include path.
#   app -> crawler, parsers, storage, publish, config -> core
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
failures=0

# forbid <module> <regex of forbidden #include targets> <reason>
forbid() {
  local module=$1 pattern=$2 reason=$3
  local hits
  hits=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" \
           "$module"/*.h "$module"/*.cpp 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "FAIL $module: $reason"
    echo "$hits" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok   $module: $reason"
  fi
}

project='(app|config|crawler|parsers|storage|publish)/'
forbid core     "$project|gumbo|sqlite3|boost/|libxml/|toml|spdlog" "core depends on nothing of ours and does no I/O"
forbid config   "(app|crawler|parsers|storage|publish)/|curl/|gumbo|sqlite3|boost/" "config sees only core"
forbid crawler  "(app|config|parsers|storage|publish)/|gumbo|sqlite3|libxml/" "crawler sees only core: no parsing, no SQL"
forbid parsers  "(app|config|crawler|storage|publish)/|curl/|sqlite3|boost/asio" "parsers never see curl or SQLite"
forbid storage  "(app|config|crawler|parsers|publish)/|curl/|gumbo|libxml/|boost/asio" "only storage talks SQL, and nothing else"
forbid publish  "(app|config|crawler|parsers|storage)/|curl/|gumbo|sqlite3|boost/asio" "publish sees only core"
forbid app      "sqlite3|gumbo" "app goes through the modules, never around them"

# main.cpp owns curl_global_init, the one libcurl call app may make.
grep -nE "\bcurl_[a-z_]+[[:space:]]*\(" app/*.cpp | grep -vE "^app/main.cpp:" | grep -q . && {
  echo "FAIL app: libcurl used outside main.cpp"; failures=$((failures + 1)); }

if [ "$failures" -gt 0 ]; then
  echo "$failures layer violation(s)"
  exit 1
fi
echo "layers: all arrows point one way"
