#!/usr/bin/env bash
# Run the development web server and the django-q2 task cluster side by side.
# Ctrl-C, or either of them stopping, stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
ADDR=${ADDR:-127.0.0.1:8000}

# Job control puts each program in a process group of its own, so the stop below reaches the
# server's autoreload child, and Ctrl-C reaches only this script, which then stops both:
# the cluster through its main process (it stops its workers itself; a signal to all of them
# kills django-q's sentinel outright and leaves the cluster hanging), the server as a group.
set -m
cluster=""
dispatcher=""
server=""
stop() {
    trap - INT TERM EXIT
    [ -n "$cluster" ] && kill -TERM "$cluster" 2>/dev/null
    [ -n "$dispatcher" ] && kill -TERM "$dispatcher" 2>/dev/null
    [ -n "$server" ] && kill -TERM -- "-$server" 2>/dev/null
    wait
}
trap stop INT TERM EXIT

"$PY" manage.py qcluster &
cluster=$!
# Hands due publications to the cluster within a second of their time (docs/publishing.md).
"$PY" manage.py publish_dispatcher &
dispatcher=$!
"$PY" manage.py runserver "$ADDR" &
server=$!

# Return as soon as any one stops; the EXIT trap then stops the other.
wait -n
