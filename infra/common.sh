# Sourced by the infra scripts: where the repository and the stack live, and how to recognise the
# servers this stack started.
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[1]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
STACK_DIR="${SWEEP_STACK_DIR:-$REPO_ROOT/.stack}"

# Prints the pid from $STACK_DIR/run/<name>.pid if that process is alive and is our server binary
# (argv[0] is the full path of the binary, which rules out a recycled pid).
live_pid() {
  local pidfile="$STACK_DIR/run/$1.pid" bin="$STACK_DIR/bin/$1" pid cmd
  [[ -f "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmd" == "$bin "* ]] || return 1
  printf '%s\n' "$pid"
}
