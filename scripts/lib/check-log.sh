# Messages and timing for the interoperability checks (scripts/ray, scripts/gymnasium).
# Set check_name before sourcing: every line is prefixed with [check_name].
say() { printf '[%s] %s\n' "$check_name" "$*"; }
fail() { say "FAILED: $*" >&2; exit 1; }
skip() { say "skipped: $*"; exit 0; }
now() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
