#!/usr/bin/env bash
# Starts a run of a pipeline on a Steward server and waits for its result: for CI, after a
# merge. Needs bash, curl and jq.
#
#   STEWARD_URL=https://steward.example.com STEWARD_TOKEN=stk_… \
#     deploy/ci/run-and-wait.sh [options] <pipeline> [key=value ...]
#
# By default it waits until the run reaches its approval gate or ends: the run passed its
# checks and validation, and people approve it in Slack. With --until-deployed it keeps
# waiting through the approval until the run is deployed.
#
# The run is started with an Idempotency-Key: the same key always means the same run, so a
# re-run CI job follows the run its first attempt started instead of starting another.
# The default key is ci:<pipeline>:$GITHUB_SHA (the commit) when GITHUB_SHA is set.
#
# Options:
#   --key KEY          the Idempotency-Key (default: ci:<pipeline>:$GITHUB_SHA; none without GITHUB_SHA)
#   --until-deployed   wait through the approval gate until the run is deployed
#   --timeout SECONDS  give up after this long (default 1800)
#   --interval SECONDS between two looks at the run (default 5)
#
# Exit codes: 0 the run awaits approval (or, with --until-deployed, is deployed);
# 1 the run failed, was rejected, expired or was cancelled; 2 the run could not be started
# (usage, an unreachable server, a refused token, an unknown pipeline …); 3 timed out.
# Prints the run's number and page ($STEWARD_URL/runs/N); on GitHub Actions it also sets
# the step outputs `run`, `url` and `state`.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "error: $*" >&2
  exit 2
}

key=''
until_deployed=false
timeout=1800
interval=5
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --key) [ $# -ge 2 ] || die '--key needs a value'; key="$2"; shift 2 ;;
    --until-deployed) until_deployed=true; shift ;;
    --timeout) [ $# -ge 2 ] || die '--timeout needs a number of seconds'; timeout="$2"; shift 2 ;;
    --interval) [ $# -ge 2 ] || die '--interval needs a number of seconds'; interval="$2"; shift 2 ;;
    -h | --help) usage ;;
    --) shift; args+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -ge 1 ] || die 'name the pipeline: run-and-wait.sh [options] <pipeline> [key=value ...]'
pipeline="${args[0]}"
[[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout takes whole seconds (got '$timeout')"
[[ "$interval" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--interval takes seconds (got '$interval')"

command -v curl >/dev/null || die 'curl is not installed'
command -v jq >/dev/null || die 'jq is not installed'
[ -n "${STEWARD_URL:-}" ] || die 'set STEWARD_URL to the Steward server, e.g. https://steward.example.com'
[ -n "${STEWARD_TOKEN:-}" ] ||
  die "set STEWARD_TOKEN to a person's API token for $STEWARD_URL (an admin there makes one with \`steward token create <user>\`)"
base="${STEWARD_URL%/}"

# The run's params as a JSON object, from key=value arguments.
params='{}'
for pair in "${args[@]:1}"; do
  [[ "$pair" == ?*=* ]] || die "'$pair' is not a parameter; write key=value, e.g. epochs=30"
  params=$(jq -c --arg k "${pair%%=*}" --arg v "${pair#*=}" '. + {($k): $v}' <<<"$params")
done
if [ -z "$key" ] && [ -n "${GITHUB_SHA:-}" ]; then key="ci:$pipeline:$GITHUB_SHA"; fi

body_file=$(mktemp)
trap 'rm -f "$body_file"' EXIT

# call METHOD PATH [JSON]: sets $status (the HTTP status, 000 when the server was not
# reached) and leaves the answer in $body_file; $curl_error says why it was not reached.
call() {
  local method="$1" path="$2" data="${3:-}"
  local opts=(-sS --max-time 30 -o "$body_file" -w '%{http_code}' -X "$method"
    -H "Authorization: Bearer $STEWARD_TOKEN" -H 'Accept: application/json')
  if [ -n "$data" ]; then opts+=(-H 'Content-Type: application/json' --data "$data"); fi
  if [ -n "$key" ] && [ "$method" = POST ]; then opts+=(-H "Idempotency-Key: $key"); fi
  curl_error=''
  if ! status=$(curl "${opts[@]}" "$base$path" 2>"$body_file.err"); then
    curl_error=$(tr '\n' ' ' <"$body_file.err")
    status=000
  fi
  rm -f "$body_file.err"
}

# The server's own explanation of a refusal: `{"error": {"code", "message"}}`.
server_message() {
  jq -r '.error.message // empty' "$body_file" 2>/dev/null || true
}
server_code() {
  jq -r '.error.code // empty' "$body_file" 2>/dev/null || true
}

# Why a request was refused, in words that say what to fix.
refusal() {
  local what="$1" message code
  message=$(server_message)
  code=$(server_code)
  case "$status" in
    000) echo "cannot reach Steward at $base: ${curl_error:-no answer}" ;;
    401) echo "STEWARD_TOKEN was refused by $base${message:+: $message}; check the token (\`steward token list\` shows the live ones)" ;;
    403) echo "$what was refused${message:+: $message}" ;;
    *)
      if [ -n "$message" ]; then
        echo "$what failed: ${code:+$code: }$message"
      else
        echo "$what failed: HTTP $status from $base (is STEWARD_URL Steward's address?)"
      fi
      ;;
  esac
}

call POST /api/runs "$(jq -cn --arg p "$pipeline" --argjson params "$params" '{pipeline: $p, params: $params}')"
case "$status" in
  200 | 201) ;;
  *) die "$(refusal "starting a run of $pipeline")" ;;
esac
number=$(jq -r '.run.number' "$body_file")
state=$(jq -r '.run.state' "$body_file")
[[ "$number" =~ ^[0-9]+$ ]] || die "unexpected answer from $base/api/runs: $(head -c 300 "$body_file")"
url="$base/runs/$number"
if [ "$status" = 201 ]; then
  echo "started run #$number of $pipeline: $url"
else
  echo "run #$number of $pipeline was already started with Idempotency-Key $key: $url"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf 'run=%s\nurl=%s\n' "$number" "$url" >>"$GITHUB_OUTPUT"
fi

finish() {
  local code="$1" message="$2"
  [ -z "${GITHUB_OUTPUT:-}" ] || printf 'state=%s\n' "$state" >>"$GITHUB_OUTPUT"
  if [ "$code" = 0 ]; then echo "$message"; else echo "error: $message" >&2; fi
  exit "$code"
}

deadline=$(($(date +%s) + timeout))
last=''
while :; do
  if [ "$state" != "$last" ]; then
    echo "#$number $state"
    last="$state"
  fi
  case "$state" in
    deployed) finish 0 "run #$number of $pipeline is deployed: $url" ;;
    awaitingApproval)
      if [ "$until_deployed" = false ]; then
        finish 0 "run #$number of $pipeline awaits approval: $url"
      fi
      ;;
    failed)
      finish 1 "run #$number of $pipeline failed: $(jq -r '.run.error | if . == null then "no reason recorded" else (if .stage then "\(.stage): " else "" end) + .message end' "$body_file"); $url"
      ;;
    rejected)
      finish 1 "run #$number of $pipeline was rejected$(jq -r '.run.rejection | if . == null then "" else " by \(.by)" + (if .reason then ": \(.reason)" else "" end) end' "$body_file"); $url"
      ;;
    expired) finish 1 "run #$number of $pipeline expired: no one approved it in time; $url" ;;
    cancelled)
      finish 1 "run #$number of $pipeline was cancelled$(jq -r '.run.error.message // empty | if . == "" then "" else ": \(.)" end' "$body_file"); $url"
      ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    finish 3 "gave up after ${timeout}s: run #$number of $pipeline is still $state; $url"
  fi
  sleep "$interval"
  call GET "/api/runs/$number"
  case "$status" in
    200) state=$(jq -r '.run.state' "$body_file") ;;
    000 | 502 | 503 | 504)
      # Steward restarting (a deployment of its own, a worker crash) is no reason to fail the job.
      echo "warning: $(refusal "looking at run #$number"); trying again" >&2
      ;;
    *) die "$(refusal "looking at run #$number")" ;;
  esac
done
