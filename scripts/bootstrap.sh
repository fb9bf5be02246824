#!/usr/bin/env bash
# Make sure the tools the test services need exist: Python >= 3.11 with venv, Maven (fetches the
# services from Maven Central), Java >= 17 (Kafka 4) and Java >= 21 (Apicurio Registry 3.3).
# Installs what is missing with apt-get when run as root (CI, fresh containers); otherwise prints
# the command to run. Idempotent and silent when everything is present.
set -euo pipefail

java_major() {  # java_major PATH-TO-JAVA -> its major version (1.8 -> 8)
    "$1" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\)\(\.\([0-9]*\)\)\{0,1\}.*/\1 \3/p' \
        | awk '{ print ($1 == 1) ? $2 : $1 }' | head -n1
}

best_java() {  # the highest Java major version on PATH, GEN_TOPICS_JAVA_HOME, JAVA_HOME, /usr/lib/jvm
    local best=0 candidate major
    for candidate in "$(command -v java || true)" "${GEN_TOPICS_JAVA_HOME:-}/bin/java" \
        "${JAVA_HOME:-}/bin/java" /usr/lib/jvm/*/bin/java; do
        [ -x "$candidate" ] || continue
        major="$(java_major "$candidate")"
        if [ -n "$major" ] && [ "$major" -gt "$best" ]; then best="$major"; fi
    done
    echo "$best"
}

python_ok() {
    command -v python3 >/dev/null 2>&1 \
        && python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

warn_without_java21() {
    if [ "$(best_java)" -lt 21 ]; then
        echo "bootstrap: warning: no Java 21+ found; the schema registry (Apicurio 3.3) cannot" \
            "start, so registry tests will fail. Install a JDK 21+ and set GEN_TOPICS_JAVA_HOME." >&2
    fi
}

required=()
python_ok || required+=(python3 python3-venv python3-pip)
command -v mvn >/dev/null 2>&1 || required+=(maven)
[ "$(best_java)" -ge 17 ] || required+=(openjdk-17-jre-headless)
# Debian 12 has no openjdk-21 package: try it, but only the registry needs it, so do not fail.
optional=()
[ "$(best_java)" -ge 21 ] || optional+=(openjdk-21-jre-headless)

if [ "${#required[@]}" -eq 0 ] && [ "${#optional[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    if [ "${#required[@]}" -gt 0 ]; then
        echo "bootstrap: missing ${required[*]}; install them, e.g.:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${required[*]}" >&2
        exit 1
    fi
    warn_without_java21
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q || echo "bootstrap: apt-get update failed; trying the cached package lists" >&2
if [ "${#required[@]}" -gt 0 ]; then
    echo "bootstrap: installing ${required[*]} with apt-get"
    if ! apt-get install -y -q --no-install-recommends "${required[@]}"; then
        echo "bootstrap: apt-get could not install ${required[*]}; install them by hand." >&2
        exit 1
    fi
fi
if [ "${#optional[@]}" -gt 0 ] && apt-cache show "${optional[@]}" >/dev/null 2>&1; then
    echo "bootstrap: installing ${optional[*]} (Apicurio Registry 3.3 needs Java 21)"
    apt-get install -y -q --no-install-recommends "${optional[@]}" || true
fi
warn_without_java21
