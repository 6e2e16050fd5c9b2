# Shared by the test-server scripts (versitygw.sh, s3proxy.sh): start a server
# on a free loopback port and stop it again. Source it; it defines functions
# only.
#
# start_server DIR NAME TENTHS: calls the script's `launch PORT` (which starts
# the server in the background from the script's shell, so $! is its pid) on
# a free 127.0.0.1 port, waits up to TENTHS tenths of a second for the port
# to answer, and writes DIR/pid and DIR/endpoint. Tries 8 ports, then prints
# DIR/server.log and fails.
start_server() {
  local dir=$1 name=$2 tenths=$3 port pid
  for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    launch "$port"
    pid=$!
    for _ in $(seq 1 "$tenths"); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "$pid" > "$dir/pid"
        echo "http://127.0.0.1:$port" > "$dir/endpoint"
        echo "$name pid $pid on http://127.0.0.1:$port, data in $dir"
        return 0
      fi
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
  done
  echo "$name did not start; log:" >&2
  cat "$dir/server.log" >&2 || true
  return 1
}

# stop_server DIR TENTHS: stops the server DIR/pid names (TERM, then KILL
# after TENTHS tenths of a second) and removes DIR.
stop_server() {
  local dir=$1 tenths=$2 pid
  if [[ -f "$dir/pid" ]]; then
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 "$tenths"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
