#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing (npm packages; Debian packages when run
# as root), builds the desktop engine, makes sure PostgreSQL is up, then runs the type check, unit, integration
# and end-to-end tests.
set -uo pipefail
cd "$(dirname "$0")/.."

# Browser, SSH target, terminal recordings; the RDP and VNC targets (with a small desktop for the test user, and
# FreeRDP's shadow server for NLA); what the desktop engine is built with; nginx terminating TLS in front of a
# gateway; rsyslog as a SIEM collecting streamed events; ffmpeg for video exports.
debian_packages=(chromium openssh-server asciinema
  xrdp xorgxrdp tigervnc-standalone-server tigervnc-tools xterm twm freerdp2-shadow-x11 winpr-utils
  build-essential pkg-config freerdp2-dev libvncserver-dev libpng-dev libjpeg-dev
  nginx openssl rsyslog rsyslog-gnutls ffmpeg)

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'test:all: %s\n' "$*" >&2; exit 1; }

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || fail "missing Debian packages: ${missing[*]}. Run as root, or: sudo apt-get install ${missing[*]}"
  say "installing Debian packages: ${missing[*]}"
  # Packages with a service (nginx, xrdp) must not start it on the machine's own ports: tests start their own.
  no_services=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && no_services=1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  installed=$?
  [ -n "$no_services" ] && rm -f /usr/sbin/policy-rc.d
  [ "$installed" = 0 ] || fail "apt-get could not install ${missing[*]}"
fi

# PostgreSQL on 127.0.0.1:5432 for the integration and end-to-end tests (a fresh database per run).
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  [ "$(id -u)" = 0 ] || fail "PostgreSQL is not running on 127.0.0.1:5432; start it, or run as root to have it installed and started"
  if ! command -v pg_ctlcluster >/dev/null; then
    say "installing PostgreSQL"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql || fail "apt-get could not install postgresql"
  fi
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || fail "PostgreSQL did not start"
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if [ -z "${TEST_POSTGRES_ADMIN_URL:-}" ] && ! psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc "select 1" >/dev/null 2>&1; then
  # A stock Debian cluster wants a password over TCP: give the test superuser one.
  [ "$(id -u)" = 0 ] || fail "cannot connect to PostgreSQL as postgres@127.0.0.1; set TEST_POSTGRES_ADMIN_URL"
  runuser -u postgres -- psql -qc "alter user postgres password 'gatehouse-test'" || fail "could not set a password for the postgres user"
  export TEST_POSTGRES_ADMIN_URL="postgres://postgres:gatehouse-test@127.0.0.1:5432/postgres"
fi

if [ ! -d node_modules ]; then
  say "installing npm packages"
  npm ci || fail "npm ci failed"
fi

say "building the desktop engine and the native memory helper"
npm run --silent build:engine || fail "the desktop engine did not build"
npm run --silent build:native || fail "the native helper did not build"

mkdir -p .test-artifacts
# Gateway logs are read at the end for errors that escaped their handlers: only this run's may count.
rm -f .test-artifacts/*.log
status=0
run() {
  say "$1"
  shift
  "$@" || status=1
}
run "type check" npx tsc --noEmit
run "unit tests" npx vitest run --project unit --reporter=default --reporter=json --outputFile=.test-artifacts/unit.json
run "integration tests (PostgreSQL, PGlite)" npx vitest run --project integration --reporter=default --reporter=json --outputFile=.test-artifacts/integration.json
run "security tests: fuzzing the wire and the desktop engine (sanitizers)" npx vitest run --project security --reporter=default --reporter=json --outputFile=.test-artifacts/security.json
PLAYWRIGHT_JSON_OUTPUT_NAME=.test-artifacts/e2e.json run "end-to-end tests (Chromium), the attacks on a running gateway among them" npx playwright test --reporter=list,json

# An error that escaped every handler is a bug even when every test passed: the gateway logs it as uncaught.
escaped=$(grep -HniE 'uncaught|unhandled' .test-artifacts/*.log 2>/dev/null)
if [ -n "$escaped" ]; then
  say "errors escaped their handlers in the gateways' logs"
  printf '%s\n' "$escaped" | head -n 40
  status=1
fi

# The tests that failed, by name, and one closing line for the whole run: the end of a long log says what broke.
node -e '
const fs = require("node:fs");
const path = require("node:path");
const read = (file) => { try { return JSON.parse(fs.readFileSync(file, "utf8")); } catch { return null; } };
let passed = 0, failed = 0, skipped = 0;
const failures = [];
for (const name of ["unit", "integration", "security"]) {
  const report = read(`.test-artifacts/${name}.json`);
  if (!report) { failed += 1; failures.push(`${name}: no report`); continue; }
  passed += report.numPassedTests; failed += report.numFailedTests; skipped += report.numPendingTests + report.numTodoTests;
  for (const file of report.testResults) {
    for (const test of file.assertionResults) if (test.status === "failed") failures.push(`${name}: ${path.relative(".", file.name)} › ${test.fullName}`);
    if (file.status === "failed" && file.assertionResults.length === 0) failures.push(`${name}: ${path.relative(".", file.name)}: ${(file.message ?? "").split("\n")[0]}`);
  }
}
const e2e = read(".test-artifacts/e2e.json");
if (e2e) { passed += e2e.stats.expected + e2e.stats.flaky; failed += e2e.stats.unexpected; skipped += e2e.stats.skipped; } else { failed += 1; failures.push("e2e: no report"); }
const walk = (suite, titles) => {
  for (const spec of suite.specs ?? []) for (const test of spec.tests) if (test.status === "unexpected") failures.push(`e2e: ${spec.file} › ${[...titles, spec.title].join(" › ")}`);
  for (const child of suite.suites ?? []) walk(child, [...titles, child.title]);
};
for (const suite of e2e?.suites ?? []) walk(suite, []);
if (failures.length > 0) console.log(`\nfailed:\n${failures.map((failure) => `  ${failure}`).join("\n")}`);
console.log(`\ntest:all: ${passed} passed, ${failed} failed, ${skipped} skipped`);
'
exit $status
